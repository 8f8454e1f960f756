"""One sending process's SMTP connections, driven from one thread in rounds: each round takes one
built message per connection, hands them all over in one transaction (recording the messages the
round before sent), then sends them.

One thread rather than a thread per connection: building a copy and speaking SMTP are both Python
work, and threads would only take turns for the interpreter lock, paying for every hand-off. Each
connection has at most one message out and not recorded, so a crash still repeats at most one
message per connection (``bookkeeping``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from digest.config import Settings
from digest.db.engine import session_scope, writer_turn
from digest.digests.bookkeeping import Bookkeeper, Sent
from digest.mail import outbox
from digest.mail.pipelining import Pipeline
from digest.mail.transports import DeliveryError, FileOutbox, SmtpTransport
from digest.subscribers import store as subscribers

log = logging.getLogger(__name__)


@dataclass(slots=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    # Digests cancelled while this run went on (queued or claimed), as the database has them: most are
    # cancelled by the unsubscribe itself, in the web app, not by this sender.
    cancelled: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, outcome: str) -> None:
        with self.lock:
            setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass(frozen=True, slots=True)
class Outgoing:
    delivery_id: int
    subscriber_id: int
    attempts: int
    recipient: str
    message_id: str
    data: bytes  # the whole message as SMTP sends it after DATA (message.wire_form)
    had_failures: bool  # only then does a success need to reset the subscriber's failure count
    envelope_sender: str  # the VERP return path naming this delivery (see digest.mail.return_path)


class RateLimit:
    """At most ``per_second`` messages a second across all connections (0: no limit)."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.next_slot = time.monotonic()
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            slot = max(self.next_slot, now)
            self.next_slot = slot + self.interval
        time.sleep(max(0.0, slot - now))


@dataclass(slots=True)
class _Link:
    transport: FileOutbox | SmtpTransport | None = None
    sent: Outgoing | None = None  # went out; recorded with the next round's hand-over
    pipe: Pipeline | None = None  # the connection's pipelining, when its server offers it
    staged: Outgoing | None = None  # its envelope is accepted (DATA answered 354): its data goes next
    used: bool = False  # has carried a message: its server may have closed it since


class Connections:
    """``count`` connections of one process, opened when first used and sending in rounds.

    Where the server offers PIPELINING, a round writes on every connection before it reads any
    reply, and each write ends one message's data and starts the next message's envelope: one
    round trip per message, taken by all connections at once. That next message is handed over
    (and so may still be cancelled) only in the following round, before its data is written; a
    cancelled one is dropped by closing its connection, which delivers nothing."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        count: int,
        open_connection: Callable[[], FileOutbox | SmtpTransport],
        books: Bookkeeper,
        limit: RateLimit,
        clock: Callable[[], datetime],
        on_outcome: Callable[[str], None],
    ) -> None:
        self.engine, self.settings, self.books, self.limit = engine, settings, books, limit
        self.open_connection, self.clock, self.on_outcome = open_connection, clock, on_outcome
        self.links = [_Link() for _ in range(max(1, count))]

    @property
    def staged(self) -> list[Outgoing]:
        """Messages whose envelopes the connections hold, not handed over yet."""
        return [link.staged for link in self.links if link.staged is not None]

    def send_round(self, waiting: deque[Outgoing]) -> None:
        """Send the next message on each connection: the one it holds the envelope of, or the next
        of ``waiting`` (fewer when fewer are left)."""
        take: list[tuple[_Link, Outgoing]] = []
        for link in self.links:
            if link.staged is not None:
                take.append((link, link.staged))
            elif waiting:
                take.append((link, waiting.popleft()))
        for _ in take:
            self.limit.wait()
        handed = self._record([item.delivery_id for _link, item in take], [])
        ready: list[tuple[_Link, Outgoing]] = []  # envelopes accepted: the data goes now
        fresh: list[tuple[_Link, Outgoing]] = []  # envelopes written this round
        for link, item in take:
            staged, link.staged = link.staged, None
            if item.delivery_id not in handed:  # cancelled: counted from the database at the end
                if staged is not None:
                    self._abandon(link)
                continue
            if staged is not None:
                ready.append((link, item))
            elif self._start(link, item):
                fresh.append((link, item))
        for link, item in fresh:
            if self._envelope_accepted(link, item):
                ready.append((link, item))
        for link, item in ready:
            assert link.pipe is not None
            after = waiting[0] if waiting and _ascii(waiting[0]) else None
            if after is not None:
                link.staged = waiting.popleft()
            link.pipe.write(item.data, _envelope(after) if after is not None else None)
            link.pipe.flush()
        for link, item in ready:
            assert link.pipe is not None
            ((failed, refused),) = link.pipe.replies()
            link.used = True
            if failed is not None:
                self.on_outcome(self._record_failure(item, failed))
            else:
                link.sent = item
            if refused is not None and link.staged is not None:
                refusal, link.staged = link.staged, None
                self.on_outcome(self._record_failure(refusal, refused))

    def _start(self, link: _Link, item: Outgoing) -> bool:
        """Write ``item``'s envelope on a pipelining connection (True), or send it step by step."""
        try:
            if link.transport is None:
                link.transport = self.open_connection()
            pipe = link.pipe = link.transport.pipeline() if isinstance(link.transport, SmtpTransport) else None
            if pipe is not None and _ascii(item):
                pipe.write(None, _envelope(item))
                pipe.flush()
                return True
            link.transport.send_wire(item.envelope_sender, item.recipient, item.data)
        except DeliveryError as exc:
            self.on_outcome(self._record_failure(item, exc))
            return False
        link.sent, link.used = item, True
        return False

    def _envelope_accepted(self, link: _Link, item: Outgoing) -> bool:
        assert link.pipe is not None and isinstance(link.transport, SmtpTransport)
        ((_none, refused),) = link.pipe.replies()
        if refused is not None and link.pipe.broken and link.used:
            # Found closed (an idle timeout, a 421 before) before anything was accepted: once more
            # on a new connection, as the step-by-step path does.
            link.used = False
            return self._start(link, item) and self._envelope_accepted(link, item)
        if refused is not None:
            self.on_outcome(self._record_failure(item, refused))
            return False
        return True

    def _abandon(self, link: _Link) -> None:
        """End a connection holding an accepted envelope without sending its message."""
        if isinstance(link.transport, SmtpTransport):
            link.transport.abandon()
        link.pipe = None

    def finish(self, give_back: list[int]) -> None:
        """Record what went out last and release ``give_back`` and the messages whose envelopes the
        connections hold, unsent; then close the connections."""
        try:
            self._record([], [*give_back, *(item.delivery_id for item in self.staged)])
        finally:
            self.close()

    def close(self) -> None:
        for link in self.links:
            if link.staged is not None:
                self._abandon(link)
                link.staged = None
            if link.transport is not None:
                link.transport.close()
                link.transport = None
            link.pipe = None

    def _record(self, hand_over: list[int], give_back: list[int]) -> set[int]:
        sent = [link.sent for link in self.links if link.sent is not None]
        handed = self.books.write(
            [Sent(i.delivery_id, i.subscriber_id, i.message_id, i.had_failures) for i in sent], hand_over, give_back
        )
        for link in self.links:
            if link.sent is not None:
                link.sent = None
                self.on_outcome("sent")
        return handed

    def _record_failure(self, item: Outgoing, exc: DeliveryError) -> str:
        settings, now = self.settings, self.clock()
        attempts = item.attempts + 1
        with writer_turn(self.engine), session_scope(self.engine) as session:
            # A refused pipelined envelope was not handed over yet: an unsubscribe may have
            # cancelled its row meanwhile, and that stays (counted with the cancelled at the end).
            if exc.permanent or attempts >= settings.delivery.max_attempts:
                if not outbox.mark_failed(session, item.delivery_id, str(exc), now, sending=True):
                    return "cancelled"
                subscribers.record_delivery_result(session, item.subscriber_id, permanent_failure=exc.permanent)
                log.warning("delivery %d failed for good: %s", item.delivery_id, exc)
                return "failed"
            delay = timedelta(minutes=settings.delivery.retry_minutes * 2 ** (attempts - 1))
            if not outbox.mark_retry(session, item.delivery_id, str(exc), now, now + delay, sending=True):
                return "cancelled"
        log.info("delivery %d will be retried in %s: %s", item.delivery_id, delay, exc)
        return "retrying"


def _ascii(item: Outgoing) -> bool:
    """Pipelined envelopes carry ASCII addresses only; others need SMTPUTF8, step by step."""
    return (item.envelope_sender + item.recipient).isascii()


def _envelope(item: Outgoing) -> tuple[str, str, int]:
    return item.envelope_sender, item.recipient, len(item.data)

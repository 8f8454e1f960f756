"""One SMTP connection's share of a send: take built messages from a queue, hand each over, send it,
record the outcome.

Each connection writes once per message: the transaction that hands the next row over (stamps it
just before its message leaves, so an unsubscribe committed earlier cancels it) also records the
previous message as sent. A crash therefore leaves at most one row per connection stamped and not
recorded, as before, with half the write transactions; the process's connections commit their
steps together (``bookkeeping``). The last message's outcome is written as soon as the queue runs
dry, so nothing waits for a message that may not come.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from digest.config import Settings
from digest.db.engine import session_scope, writer_turn
from digest.digests.bookkeeping import Bookkeeper, Sent, Step
from digest.mail import outbox
from digest.mail.transports import DeliveryError, FileOutbox, SmtpTransport
from digest.subscribers import store as subscribers

log = logging.getLogger(__name__)
IDLE_POLL = 0.05  # seconds a connection waits for work before looking at the stop flags again


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
    data: bytes
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
class Work:
    """What the connections of one process share: the queue of built messages and when to stop."""

    items: queue.Queue[Outgoing]
    stop: threading.Event | None  # shutdown: finish the message in hand, give the rest back
    done: threading.Event = field(default_factory=threading.Event)  # no more messages will be queued
    failed: threading.Event = field(default_factory=threading.Event)  # a connection stopped on an error
    errors: list[BaseException] = field(default_factory=list)

    def stopping(self) -> bool:
        return self.failed.is_set() or (self.stop is not None and self.stop.is_set())


def run_connection(
    engine: Engine,
    settings: Settings,
    open_connection: Callable[[], FileOutbox | SmtpTransport],
    work: Work,
    books: Bookkeeper,
    limit: RateLimit,
    clock: Callable[[], datetime],
    on_outcome: Callable[[str], None],
) -> None:
    """Send queued messages over one connection until the queue is done (or the send stops)."""
    transport: FileOutbox | SmtpTransport | None = None
    sent: Outgoing | None = None  # went out; recorded with the next hand-over, or when idle
    try:
        while True:
            try:
                item = work.items.get_nowait() if sent is not None else work.items.get(timeout=IDLE_POLL)
            except queue.Empty:
                if sent is not None:
                    books.write(Step(_sent(sent)))
                    on_outcome("sent")
                    sent = None
                elif work.done.is_set() or work.stopping():
                    return
                continue
            stopping = work.stopping()
            if not stopping:
                limit.wait()
            handed = books.write(Step(_sent(sent), item.delivery_id, give_back=stopping))
            if sent is not None:
                on_outcome("sent")
                sent = None
            if not handed:
                continue  # cancelled: counted from the database at the end, with those never claimed
            if transport is None:
                transport = open_connection()
            try:
                transport.send_raw(item.envelope_sender, item.recipient, item.data)
            except DeliveryError as exc:
                on_outcome(_record_failure(engine, settings, item, exc, clock()))
                continue
            sent = item
    except BaseException as exc:  # the sending process reports it; this connection's rows stay claimed
        work.errors.append(exc)
        work.failed.set()
    finally:
        if transport is not None:
            transport.close()


def release_queued(engine: Engine, items: queue.Queue[Outgoing], also: list[int], now: datetime) -> None:
    """Give back every message still queued, and the rows ``also`` (the send stopped): the next run
    takes them."""
    ids = list(also)
    while True:
        try:
            ids.append(items.get_nowait().delivery_id)
        except queue.Empty:
            break
    if ids:
        with writer_turn(engine), session_scope(engine) as session:
            for delivery_id in ids:
                outbox.release(session, delivery_id, now)


def _sent(item: Outgoing | None) -> Sent | None:
    return None if item is None else Sent(item.delivery_id, item.subscriber_id, item.message_id, item.had_failures)


def _record_failure(engine: Engine, settings: Settings, item: Outgoing, exc: DeliveryError, now: datetime) -> str:
    attempts = item.attempts + 1
    with writer_turn(engine), session_scope(engine) as session:
        if exc.permanent or attempts >= settings.delivery.max_attempts:
            outbox.mark_failed(session, item.delivery_id, str(exc), now)
            subscribers.record_delivery_result(session, item.subscriber_id, permanent_failure=exc.permanent)
            log.warning("delivery %d failed for good: %s", item.delivery_id, exc)
            return "failed"
        delay = timedelta(minutes=settings.delivery.retry_minutes * 2 ** (attempts - 1))
        outbox.mark_retry(session, item.delivery_id, str(exc), now, now + delay)
    log.info("delivery %d will be retried in %s: %s", item.delivery_id, delay, exc)
    return "retrying"

"""Delivering queued digests: claim rows, render (shared per group), send over several reused
connections at a bounded rate, and record each outcome in its own transaction.

An unsubscribe between queueing and sending wins: unsubscribing cancels every row not yet handed to
the mail server, queued or claimed, and each row is handed over (``outbox.hand_over``, one indexed
single-row update) just before its message goes out, so a row cancelled a moment earlier is skipped.
Temporary failures (4xx, dropped connections) are retried with exponential backoff; permanent ones
(5xx) fail the row and count against the address.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from digest.config import Settings
from digest.db.engine import session_scope
from digest.digests import edition_store, review
from digest.digests.editions import Desk
from digest.digests.render import Rendered, digest_bytes, message_id, render_digest
from digest.digests.select import Candidate, load_by_ids, regroup
from digest.mail import outbox
from digest.mail.return_path import ReturnPath
from digest.mail.transports import DeliveryError, FileOutbox, SmtpTransport, open_transport
from digest.subscribers import recipient_store
from digest.subscribers import store as subscribers
from digest.subscribers.links import links_for
from digest.subscribers.tokens import LinkSigner
from digest.tagging.rules import Ruleset

log = logging.getLogger(__name__)
CLAIM_BATCH = 200
PROCESSES_FROM = 1000  # below this many waiting messages one process sends them all


@dataclass(frozen=True, slots=True)
class SendLayout:
    """What sending needs of the topics: their names and section order (cheap to hand to a process)."""

    names: dict[str, str]
    group_order: tuple[str, ...]


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


def deliver_queued(
    engine: Engine,
    settings: Settings,
    ruleset: Ruleset,
    signer: LinkSigner,
    *,
    worker: str | None = None,
    stop: threading.Event | None = None,
    on_start: Callable[[int], None] | None = None,
    on_message: Callable[[str], None] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> DeliveryReport:
    """Send every due queued delivery; returns what happened.

    Large sends are shared by ``delivery.sender_processes`` processes (one per core by default), which
    claim batches from the outbox and split ``delivery.connections`` between them. When ``stop`` is
    set (shutdown), the message in hand is finished and the rest of each claimed batch goes straight
    back to the queue for the next run. ``clock`` (default: the real time) decides what is due:
    retries whose time has come, claims older than ``delivery.claim_timeout_minutes``.
    """
    worker = worker or f"{socket.gethostname()}:{os.getpid()}"
    clock = clock or _utcnow
    # Unsubscribes stamp their cancellations with the real time, this sender with its clock.
    since = min(clock(), _utcnow())
    with session_scope(engine) as session:
        timeout = timedelta(minutes=settings.delivery.claim_timeout_minutes)
        reclaimed = outbox.reclaim_stale(session, clock(), timeout)
        if reclaimed:
            log.warning("%d deliveries were left 'sending' by a stopped sender: queued again", reclaimed)
        waiting = outbox.waiting(session, clock())
    if on_start:
        on_start(waiting)
    layout = SendLayout({t.slug: t.name for t in ruleset.topics}, tuple(ruleset.group_order))
    processes = sender_processes(settings, waiting)
    if processes > 1:
        from digest.digests.senders import send_in_processes  # multiprocessing only when it is used

        offset = clock() - _utcnow()
        report = send_in_processes(settings, layout, signer, processes, worker, stop, on_message, offset)
    else:
        report = send_claimed(
            engine,
            settings,
            layout,
            signer,
            connections=settings.delivery.connections,
            per_second=settings.delivery.messages_per_second,
            worker=worker,
            clock=clock,
            stop=stop,
            on_message=on_message,
        )
    with session_scope(engine) as session:
        report.cancelled = outbox.cancelled_since(session, since)
    return report


def sender_processes(settings: Settings, waiting: int) -> int:
    """How many processes to send with: one below ``PROCESSES_FROM`` messages (starting them costs more)."""
    wanted = settings.delivery.sender_processes or os.cpu_count() or 1
    if waiting < PROCESSES_FROM or not settings.mail_url.startswith(("smtp:", "smtps:")):
        return 1
    return max(1, min(wanted, settings.delivery.connections, waiting // CLAIM_BATCH))


def send_claimed(
    engine: Engine,
    settings: Settings,
    layout: SendLayout,
    signer: LinkSigner,
    *,
    connections: int,
    per_second: float,
    worker: str,
    clock: Callable[[], datetime],
    stop: threading.Event | None = None,
    on_message: Callable[[str], None] | None = None,
) -> DeliveryReport:
    """One process's share: claim batches until none is due, sending over ``connections`` connections."""
    report = DeliveryReport()
    renderings: dict[tuple[object, ...], Rendered] = {}
    stories: dict[int, Candidate] = {}
    limit = RateLimit(per_second)
    local = threading.local()
    transports: list[FileOutbox | SmtpTransport] = []
    return_path = ReturnPath(settings.mail.bounce_address, settings.mail.from_address, signer.keys)

    def send(item: Outgoing) -> None:
        if stop is not None and stop.is_set():
            with session_scope(engine) as session:
                outbox.release(session, item.delivery_id, clock())
            return
        if not hasattr(local, "transport"):
            local.transport = open_transport(settings.mail_url, settings.delivery.smtp_timeout_seconds)
            transports.append(local.transport)
        outcome = _send_one(engine, settings, local.transport, item, limit, worker, clock)
        if outcome != "cancelled":  # counted from the database at the end, with those never claimed
            report.add(outcome)
        if on_message:
            on_message(outcome)

    try:
        with ThreadPoolExecutor(max_workers=connections, thread_name_prefix="digest-smtp") as pool:
            while stop is None or not stop.is_set():
                batch = _prepare_batch(
                    engine, settings, layout, signer, return_path, worker, renderings, stories, clock
                )
                if batch is None:
                    break
                list(pool.map(send, batch))
    finally:
        for transport in transports:
            transport.close()
    return report


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _prepare_batch(
    engine: Engine,
    settings: Settings,
    layout: SendLayout,
    signer: LinkSigner,
    return_path: ReturnPath,
    worker: str,
    renderings: dict[tuple[object, ...], Rendered],
    stories: dict[int, Candidate],
    clock: Callable[[], datetime],
) -> list[Outgoing] | None:
    """Claim the next rows and build their messages; None when nothing is due."""
    now = clock()
    with session_scope(engine) as session:
        claimed = outbox.claim(session, worker, now, CLAIM_BATCH, review.held_editions(session))
        if not claimed:
            return None
        # Read once per batch: editors' changes made while an edition is sending reach the rest of it.
        desks: dict[str, Desk] = {e: review.desk_of(session, e) for e in {c.edition for c in claimed}}
        people = recipient_store.recipients_by_ids(session, {c.subscriber_id for c in claimed})
        missing = {i for c in claimed for i in c.story_ids} - stories.keys()
        if missing:
            stories.update(load_by_ids(session, missing))
        batch = []
        for row in claimed:
            person = people.get(row.subscriber_id)
            if person is None or person.status != "confirmed":
                outbox.mark_cancelled(session, row.id, now)
                continue
            desk = desks[row.edition]
            chosen = [stories[i] for i in row.story_ids if i in stories]
            selection = regroup(layout.group_order, chosen, person.topic_slugs, desk.excluded)
            if desk.excluded and set(selection.story_ids) != set(row.story_ids):
                if not selection.count and not settings.digest.send_empty:
                    outbox.mark_empty(session, row.id, now)  # every story of it was excluded
                    continue
                edition_store.set_delivered_stories(session, row.id, selection.story_ids)
            key = (tuple(person.topic_slugs), person.frequency, row.edition, selection.story_ids, desk.version)
            rendered = renderings.get(key)
            if rendered is None:
                rendered = renderings[key] = render_digest(
                    settings, layout.names, selection, person.topic_slugs, person.frequency, row.edition, desk
                )
            links = links_for(settings, signer, person, confirm=False)
            data = digest_bytes(settings, rendered, person.email, links, row.edition, person.link_key)
            ident = message_id(settings, row.edition, person.link_key)
            failures = person.failed_deliveries > 0
            sender = return_path.for_delivery(row.id)
            batch.append(Outgoing(row.id, person.id, row.attempts, person.email, ident, data, failures, sender))
    return batch


def _send_one(
    engine: Engine,
    settings: Settings,
    transport: FileOutbox | SmtpTransport,
    item: Outgoing,
    limit: RateLimit,
    worker: str,
    clock: Callable[[], datetime],
) -> str:
    limit.wait()
    # The last look before the message leaves: an unsubscribe since the batch was claimed has
    # cancelled the row, and then this update finds nothing to hand over.
    with session_scope(engine) as session:
        if not outbox.hand_over(session, item.delivery_id, worker, clock()):
            return "cancelled"
    try:
        transport.send_raw(item.envelope_sender, item.recipient, item.data)
    except DeliveryError as exc:
        return _record_failure(engine, settings, item, exc, clock())
    with session_scope(engine) as session:
        outbox.mark_sent(session, item.delivery_id, item.message_id, clock())
        if item.had_failures:
            subscribers.record_delivery_result(session, item.subscriber_id, permanent_failure=False)
    return "sent"


def _record_failure(engine: Engine, settings: Settings, item: Outgoing, exc: DeliveryError, now: datetime) -> str:
    attempts = item.attempts + 1
    with session_scope(engine) as session:
        if exc.permanent or attempts >= settings.delivery.max_attempts:
            outbox.mark_failed(session, item.delivery_id, str(exc), now)
            subscribers.record_delivery_result(session, item.subscriber_id, permanent_failure=exc.permanent)
            log.warning("delivery %d failed for good: %s", item.delivery_id, exc)
            return "failed"
        delay = timedelta(minutes=settings.delivery.retry_minutes * 2 ** (attempts - 1))
        outbox.mark_retry(session, item.delivery_id, str(exc), now, now + delay)
    log.info("delivery %d will be retried in %s: %s", item.delivery_id, delay, exc)
    return "retrying"

"""Delivering queued digests: claim rows, render (shared per group), send over several reused
connections at a bounded rate, and record each outcome.

An unsubscribe between queueing and sending wins: unsubscribing cancels every row not yet handed to
the mail server, queued or claimed, and each row is handed over (``outbox.hand_over``, one indexed
single-row update) just before its message goes out, so a row cancelled a moment earlier is skipped.
Each connection records its previous message as sent in the transaction that hands over its next
one, and the connections of a process commit those steps together (``connections``,
``bookkeeping``). Temporary failures (4xx, dropped connections) are retried with exponential
backoff; permanent ones (5xx) fail the row and count against the address.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from digest.config import Settings
from digest.db.engine import session_scope, writer_turn
from digest.digests import archive_store, edition_store, review
from digest.digests.archive_paths import group_key
from digest.digests.bookkeeping import Bookkeeper
from digest.digests.connections import Connections, DeliveryReport, Outgoing, RateLimit
from digest.digests.editions import Desk
from digest.digests.render import Rendered, digest_bytes, message_id, render_digest
from digest.digests.select import Candidate, load_by_ids, regroup
from digest.digests.threads import earliest_needed, with_earlier
from digest.events.view import ThreadStory, thread_stories
from digest.mail import outbox
from digest.mail.return_path import ReturnPath
from digest.mail.transports import FileOutbox, SmtpTransport, open_transport
from digest.subscribers import recipient_store
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
    """One process's share: claim and build batches until none is due, sending each over
    ``connections`` connections in rounds (the next batch is claimed when this one is nearly out,
    so a sender never holds rows that other senders, idle, could be sending)."""
    report = DeliveryReport()
    renderings: dict[tuple[object, ...], Rendered] = {}
    stories: dict[int, Candidate] = {}
    story_threads: dict[str, list[ThreadStory]] = {}  # the threads of those stories
    return_path = ReturnPath(settings.mail.bounce_address, settings.mail.from_address, signer.keys)

    def on_outcome(outcome: str) -> None:
        report.add(outcome)
        if on_message:
            on_message(outcome)

    def open_connection() -> FileOutbox | SmtpTransport:
        return open_transport(settings.mail_url, settings.delivery.smtp_timeout_seconds)

    books = Bookkeeper(engine, worker, clock)
    links = Connections(engine, settings, connections, open_connection, books, RateLimit(per_second), clock, on_outcome)
    waiting: deque[Outgoing] = deque()
    claiming = True
    try:
        while not (stop is not None and stop.is_set()):
            if claiming and len(waiting) < connections:
                batch = _prepare_batch(
                    engine, settings, layout, signer, return_path, worker, renderings, (stories, story_threads), clock
                )
                claiming = batch is not None
                waiting.extend(batch or ())
            if not waiting:
                break
            links.send_round(waiting)
    except BaseException:
        links.close()  # what went out and is not recorded is sent again after the claim timeout
        books.close()
        raise
    try:
        links.finish([item.delivery_id for item in waiting])  # the send stopped: the rest is given back
    finally:
        books.close()
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
    known: tuple[dict[int, Candidate], dict[str, list[ThreadStory]]],
    clock: Callable[[], datetime],
) -> list[Outgoing] | None:
    """Claim the next rows and build their messages; None when nothing is due. ``known``: the stories
    and their threads read by earlier batches of this run.

    Only the claim and the few rows that will not be sent are written; the messages are built
    outside any write transaction, so other senders' hand-overs never wait for them."""
    stories, threads = known
    now = clock()
    with writer_turn(engine), session_scope(engine) as session:
        claimed = outbox.claim(session, worker, now, CLAIM_BATCH, review.held_editions(session))
    if not claimed:
        return None
    with session_scope(engine, read_only=True) as session:
        # Read once per batch: editors' changes made while an edition is sending reach the rest of it.
        desks: dict[str, Desk] = {e: review.desk_of(session, e) for e in {c.edition for c in claimed}}
        people = recipient_store.recipients_by_ids(session, {c.subscriber_id for c in claimed})
        missing = {i for c in claimed for i in c.story_ids} - stories.keys()
        if missing:
            stories.update(load_by_ids(session, missing))
            threads.update(thread_stories(session, missing))
        selections = {}
        for row in claimed:
            person = people.get(row.subscriber_id)
            if person is not None:
                chosen = [stories[i] for i in row.story_ids if i in stories]
                selections[row.id] = regroup(
                    layout.group_order, chosen, person.topic_slugs, desks[row.edition].excluded
                )
        # Only readers of items that continue a thread need their earlier digests read.
        oldest = min(filter(None, (earliest_needed(s, threads) for s in selections.values())), default=None)
        got = edition_store.received(session, list(people), oldest) if oldest else {}
    batch = []
    cancelled: list[int] = []
    empty: list[int] = []
    narrowed: list[tuple[int, tuple[int, ...]]] = []
    archived: list[tuple[str, str, tuple[int, ...]]] = []  # what each new rendering carried, for the archive
    for row in claimed:
        person = people.get(row.subscriber_id)
        if person is None or person.status != "confirmed":
            cancelled.append(row.id)
            continue
        desk = desks[row.edition]
        selection = selections[row.id]
        if desk.excluded and set(selection.story_ids) != set(row.story_ids):
            if not selection.count and not settings.digest.send_empty:
                empty.append(row.id)  # every story of it was excluded
                continue
            narrowed.append((row.id, selection.story_ids))
        selection = with_earlier(selection, threads, got.get(person.id, ()))
        key = (tuple(person.topic_slugs), person.frequency, row.edition, selection, desk.version)
        rendered = renderings.get(key)
        if rendered is None:
            rendered = renderings[key] = render_digest(
                settings, layout.names, selection, person.topic_slugs, person.frequency, row.edition, desk
            )
            if selection.count:
                archived.append((row.edition, group_key(person.topic_slugs, layout.group_order), selection.story_ids))
        links = links_for(settings, signer, person, confirm=False)
        data = digest_bytes(settings, rendered, person.email, links, row.edition, person.link_key)
        ident = message_id(settings, row.edition, person.link_key)
        failures = person.failed_deliveries > 0
        sender = return_path.for_delivery(row.id)
        batch.append(Outgoing(row.id, person.id, row.attempts, person.email, ident, data, failures, sender))
    if cancelled or empty or narrowed or archived:
        with writer_turn(engine), session_scope(engine) as session:
            for edition, group, story_ids in archived:
                archive_store.record_issue(session, edition, group, story_ids, now)
            for delivery_id in cancelled:
                outbox.mark_cancelled(session, delivery_id, now)
            for delivery_id in empty:
                outbox.mark_empty(session, delivery_id, now)
            for delivery_id, story_ids in narrowed:
                edition_store.set_delivered_stories(session, delivery_id, story_ids)
    return batch

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
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from digest.config import Settings
from digest.db.engine import session_scope
from digest.digests.batches import CLAIM_BATCH, Known, SendLayout, prepare_batch
from digest.digests.bookkeeping import Bookkeeper
from digest.digests.connections import Connections, DeliveryReport, Outgoing, RateLimit
from digest.mail import outbox
from digest.mail.return_path import ReturnPath
from digest.mail.transports import FileOutbox, SmtpTransport, open_transport
from digest.subscribers.tokens import LinkSigner
from digest.tagging.rules import Ruleset

log = logging.getLogger(__name__)
PROCESSES_FROM = 1000  # below this many waiting messages one process sends them all


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

        report = send_in_processes(engine, settings, layout, signer, processes, worker, stop, on_message, clock)
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
    known = Known()
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
                batch = prepare_batch(engine, settings, layout, signer, return_path, worker, known, clock)
                claiming = batch is not None
                waiting.extend(batch or ())
            if not waiting and not links.staged:
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

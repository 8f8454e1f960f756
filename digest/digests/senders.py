"""Sending with several processes: each claims batches from the outbox and sends its share.

Building a copy (signing links, encoding) and speaking SMTP are Python work, so one process is bound
by one core; sender processes use them all. They share nothing but the database: claims keep any row
from being taken twice (SKIP LOCKED on PostgreSQL, one writer at a time on SQLite), and
``delivery.connections`` is split between them, so a crash still repeats at most one message per
connection. A process whose parent died stops after the message in hand and gives its batch back.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import Synchronized

from sqlalchemy import Engine

from digest.config import Settings
from digest.db.engine import make_engine
from digest.digests.batches import SendLayout
from digest.digests.connections import DeliveryReport
from digest.digests.deliver import send_claimed
from digest.subscribers.tokens import LinkSigner

log = logging.getLogger(__name__)
FLUSH_EVERY = 0.1  # seconds between progress reports from a sender process


class SenderFailed(RuntimeError):
    """A sender process stopped on an error other than a failed delivery (those are recorded per row)."""


def shares(total: int, parts: int) -> list[int]:
    """``total`` connections split as evenly as possible over ``parts`` processes (each gets one at least)."""
    parts = max(1, min(parts, total))
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def send_in_processes(
    engine: Engine,
    settings: Settings,
    layout: SendLayout,
    signer: LinkSigner,
    processes: int,
    worker: str,
    stop: threading.Event | None,
    on_message: Callable[[str], None] | None,
    clock: Callable[[], datetime],
) -> DeliveryReport:
    """Send with ``processes`` senders, this process being the first: it starts the others, sends its
    own share, and adds up their outcomes as they come (between its own messages, then until they
    are done). One interpreter fewer to start and to hold in memory than a parent that only waits."""
    context = multiprocessing.get_context("spawn")  # no fork: the parent may hold threads and connections
    events: Queue[tuple[str, object]] = context.Queue()
    halt: Synchronized[int] = context.Value("b", 0, lock=False)
    connections = shares(settings.delivery.connections, processes)
    rate = settings.delivery.messages_per_second / len(connections)
    offset = clock() - datetime.now(UTC)  # digest send --now: the others keep this process's clock
    children = [
        context.Process(
            target=_sender_main,
            args=(settings, layout, signer, n, rate, f"{worker}/{i}", events, halt, os.getpid(), offset),
            name=f"digest-sender-{i}",
        )
        for i, n in enumerate(connections[1:], start=1)
    ]
    for child in children:
        child.start()
    report = DeliveryReport()
    tally = _Tally(report, on_message, events, len(children))
    # This process starts its share once the others can take theirs: else, while they start, it
    # would claim batch after batch that they could have sent.
    while tally.starting and any(child.is_alive() for child in children):
        tally.collect(wait=0.2)

    def on_own(outcome: str) -> None:
        tally.add(outcome)
        if stop is not None and stop.is_set():
            halt.value = 1
        tally.collect(wait=0.0)

    try:
        send_claimed(
            engine,
            settings,
            layout,
            signer,
            connections=connections[0],
            per_second=rate,
            worker=f"{worker}/0",
            clock=clock,
            stop=stop,
            on_message=on_own,
        )
        while tally.running:
            if stop is not None and stop.is_set():
                halt.value = 1
            if not tally.collect(wait=0.2) and not any(child.is_alive() for child in children):
                tally.errors.append("a sender process ended without reporting")
                break
    finally:
        halt.value = 1  # a flag, not an Event: setting an Event can block on a waiter that died
        for child in children:
            child.join(timeout=60)
    if tally.errors:
        raise SenderFailed("; ".join(tally.errors))
    return report


class _Tally:
    """The other sender processes' outcomes, added to this process's report as they arrive."""

    def __init__(
        self,
        report: DeliveryReport,
        on_message: Callable[[str], None] | None,
        events: Queue[tuple[str, object]],
        running: int,
    ) -> None:
        self.report, self.on_message, self.events, self.running = report, on_message, events, running
        self.errors: list[str] = []
        self.starting = running  # processes not ready to send yet
        self.looked = time.monotonic()

    def add(self, outcome: str) -> None:
        self.report.add(outcome)
        if self.on_message:
            self.on_message(outcome)

    def collect(self, wait: float) -> bool:
        """Take the reports waiting (with ``wait``: block that long for the first); False when none
        came. Without waiting, looks only every ``FLUSH_EVERY`` seconds: a look is a system call."""
        if not wait and time.monotonic() - self.looked < FLUSH_EVERY:
            return False
        self.looked = time.monotonic()
        came = False
        while self.running:
            try:
                kind, payload = self.events.get(timeout=wait) if wait and not came else self.events.get_nowait()
            except queue.Empty:
                break
            came = True
            if kind == "ready":
                self.starting -= 1
            elif kind == "outcomes":
                assert isinstance(payload, dict)
                for outcome, count in payload.items():
                    for _ in range(count):
                        self.add(outcome)
            else:
                self.running -= 1
                if kind == "error":
                    self.errors.append(str(payload))
        return came


def _sender_main(
    settings: Settings,
    layout: SendLayout,
    signer: LinkSigner,
    connections: int,
    per_second: float,
    worker: str,
    events: Queue[tuple[str, object]],
    halt: Synchronized[int],
    parent: int,
    offset: timedelta,
) -> None:
    # Ctrl-C and SIGTERM go to the parent, which asks every sender to stop through ``halt``.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    stop = threading.Event()
    pending: Counter[str] = Counter()
    lock = threading.Lock()
    flushed = [time.monotonic()]

    def flush() -> None:
        with lock:
            if pending:
                events.put(("outcomes", dict(pending)))
                pending.clear()
            flushed[0] = time.monotonic()

    def on_message(outcome: str) -> None:
        with lock:
            pending[outcome] += 1
        if time.monotonic() - flushed[0] > FLUSH_EVERY:
            flush()

    def watch() -> None:
        while not stop.is_set():
            if halt.value or os.getppid() != parent:
                stop.set()
            time.sleep(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    engine = make_engine(settings.database_url)
    events.put(("ready", None))
    try:
        send_claimed(
            engine,
            settings,
            layout,
            signer,
            connections=connections,
            per_second=per_second,
            worker=worker,
            clock=lambda: datetime.now(UTC) + offset,  # digest send --now: the parent's clock
            stop=stop,
            on_message=on_message,
        )
        flush()
        events.put(("done", None))
    except Exception as exc:  # the parent reports it; the rows it held are retried after the claim timeout
        log.exception("sender process %s stopped", worker)
        flush()
        events.put(("error", f"{worker}: {type(exc).__name__}: {exc}"))
    finally:
        stop.set()
        engine.dispose()

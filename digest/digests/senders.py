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
    settings: Settings,
    layout: SendLayout,
    signer: LinkSigner,
    processes: int,
    worker: str,
    stop: threading.Event | None,
    on_message: Callable[[str], None] | None,
    offset: timedelta = timedelta(0),
) -> DeliveryReport:
    """Run ``processes`` senders until nothing is due; their outcomes are added up as they come."""
    context = multiprocessing.get_context("spawn")  # no fork: the parent may hold threads and connections
    events: Queue[tuple[str, object]] = context.Queue()
    halt: Synchronized[int] = context.Value("b", 0, lock=False)
    connections = shares(settings.delivery.connections, processes)
    rate = settings.delivery.messages_per_second / len(connections)
    children = [
        context.Process(
            target=_sender_main,
            args=(settings, layout, signer, n, rate, f"{worker}/{i}", events, halt, os.getpid(), offset),
            name=f"digest-sender-{i}",
        )
        for i, n in enumerate(connections)
    ]
    for child in children:
        child.start()
    report, errors, running = DeliveryReport(), [], len(children)
    try:
        while running:
            if stop is not None and stop.is_set():
                halt.value = 1
            try:
                kind, payload = events.get(timeout=0.2)
            except queue.Empty:
                if not any(child.is_alive() for child in children):
                    errors.append("a sender process ended without reporting")
                    break
                continue
            if kind == "outcomes":
                assert isinstance(payload, dict)
                for outcome, count in payload.items():
                    for _ in range(count):
                        report.add(outcome)
                        if on_message:
                            on_message(outcome)
            else:
                running -= 1
                if kind == "error":
                    errors.append(str(payload))
    finally:
        halt.value = 1  # a flag, not an Event: setting an Event can block on a waiter that died
        for child in children:
            child.join(timeout=60)
    if errors:
        raise SenderFailed("; ".join(errors))
    return report


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

"""Benchmark: digests delivered per second, against pushing pre-built messages with bare smtplib.

Builds N confirmed subscribers (default 20,000) spread over every combination of the topics and both
frequencies, one day of stories from the bundled sample feeds, and an SMTP sink on 127.0.0.1 (aiosmtpd
in its own process) that accepts and discards. Then times:
- digest: planning the edition and delivering every digest (select, render, sign links, send, record);
- baseline: the same number of pre-built messages sent by a bare smtplib loop over one connection.
Prints the ratio of wall-clock rates (target >= 1.0 on SQLite, >= 0.8 on PostgreSQL), the same ratio
of CPU time, and the peak memory of the digest run's process tree (target: under 300 MB, flat in N).

The baselines push min(N, 100,000) messages each (``--baseline-messages M``): rates per message
are compared, and at 1,000,000 readers two full-length bare loops alone took over 20 minutes.

    python bench/send.py [--subscribers 20000] [--database-url URL] [--sink both|smtp-sink|aiosmtpd]
                         [--processes P] [--connections C] [--baseline-messages M]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import resource
import secrets
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, insert

from digest.config import DeliverySettings, Settings
from digest.db.engine import make_engine, session_scope
from digest.db.migrate import upgrade
from digest.digests.build import plan_edition
from digest.digests.deliver import deliver_queued
from digest.digests.preview import preview_message
from digest.feeds import entry_store, store
from digest.feeds.parse import parse_feed
from digest.feeds.retag import tag_and_save
from digest.mail.models import Delivery
from digest.subscribers.links import make_signer
from digest.subscribers.models import Subscriber, SubscriberTopic
from digest.tagging.rules import load_rules

ROOT = Path(__file__).resolve().parents[1]
PLAIN_SIZE = 8_400  # the bare loop's message as first measured: 400 short lines
SINK = """
import asyncio, sys
from aiosmtpd.controller import Controller
class Discard:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"
controller = Controller(Discard(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.read()
controller.stop()
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def smtp_sink_binary() -> str | None:
    """Postfix's smtp-sink (Debian package ``postfix``), a C sink that is not the ceiling of either side."""
    return shutil.which("smtp-sink") or next(
        (str(p) for p in (Path("/usr/sbin/smtp-sink"), Path("/usr/bin/smtp-sink")) if p.exists()), None
    )


@contextlib.contextmanager
def postfix_sink() -> Iterator[tuple[int, int]]:
    binary = smtp_sink_binary()
    if binary is None:
        sys.exit("smtp-sink is not installed: apt-get install postfix (or run with --sink aiosmtpd)")
    port = free_port()
    # -u: it refuses to run as root without a user to drop to; 1000: the listen backlog.
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    sink = subprocess.Popen([binary, *user, f"127.0.0.1:{port}", "1000"])
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield port, sink.pid
    finally:
        sink.terminate()
        sink.wait(timeout=10)


@contextlib.contextmanager
def aiosmtpd_sink() -> Iterator[tuple[int, int]]:
    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, "-c", SINK, str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
    try:
        yield port, sink.pid
    finally:
        assert sink.stdin is not None
        sink.stdin.close()
        sink.wait(timeout=10)


def populate(settings: Settings, subscribers: int, now: datetime) -> None:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    ruleset = load_rules(ROOT / "config" / "topics.toml")
    with session_scope(engine) as s:
        for i, path in enumerate(sorted((ROOT / "config" / "sample-feeds").glob("*.xml"))):
            feed = store.add_feed(s, f"https://feed{i}.example/rss", None, now)
            parsed = parse_feed(path.read_bytes(), feed.url, now=now)
            counts = entry_store.save_entries(s, feed.id, parsed.entries, now - timedelta(hours=2))
            tag_and_save(
                s,
                ruleset,
                {k: (e.title, e.summary_text, e.content_html) for k, e in counts.changed.items()},
                now,
                new=counts.created,
            )
    combos = [c for n in range(1, 4) for c in itertools.combinations(ruleset.slugs, n)]
    confirmed = now - timedelta(days=1)
    with session_scope(engine) as s:
        for start in range(0, subscribers, 5000):
            ids = range(start + 1, min(start + 5000, subscribers) + 1)
            people = [
                {
                    "id": i,
                    "email": f"reader{i}@example.org",
                    "status": "confirmed",
                    "frequency": ("daily", "weekly")[i % 2],
                    "link_key": secrets.token_urlsafe(24),
                    "created_at": confirmed,
                    "confirmed_at": confirmed,
                    "policy_version": settings.privacy.policy_version,
                    "failed_deliveries": 0,
                }
                for i in ids
            ]
            s.execute(insert(Subscriber), people)
            s.execute(
                insert(SubscriberTopic),
                [{"subscriber_id": i, "topic": t} for i in ids for t in combos[i % len(combos)]],
            )
    engine.dispose()


SAMPLER = """
import os, sys, time
from pathlib import Path
root, sink = int(sys.argv[1]), int(sys.argv[2])
leave_out = {sink, os.getpid()}
peak_rss = peak_pss = 0
def tree():
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents[int(entry)] = int(Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    found = {root}
    while True:
        more = {p for p, parent in parents.items() if parent in found and p not in found and p not in leave_out}
        if not more:
            return found
        found |= more
sys.stdout.write("ready\\n"); sys.stdout.flush()
os.set_blocking(sys.stdin.fileno(), False)
while not sys.stdin.buffer.read():
    rss = pss = 0
    for pid in tree():
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                name, _, value = line.partition(":")
                if name == "Rss":
                    rss += int(value.split()[0]) * 1024
                elif name == "Pss":
                    pss += int(value.split()[0]) * 1024
        except (OSError, ValueError):
            pass
    peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
    time.sleep(0.05)
print(peak_rss, peak_pss)
"""


class TreeMemory:
    """Peak memory of this process and everything it started for the run (sender processes,
    multiprocessing's helpers; not the SMTP sink), sampled every 50 ms by a process of its own, so
    the sampling takes no turn in the sending process (``ru_maxrss`` gives only the largest single
    process): resident pages summed over the processes, which counts the interpreter and libraries
    they share once per process, and the proportional share (PSS), which counts every page once.
    The sampler is waited for only after the run's CPU time is taken, so its own is not counted."""

    def __init__(self, sink: int) -> None:
        self.sink = sink
        self.rss = self.pss = 0

    def __enter__(self) -> TreeMemory:
        self.sampler = subprocess.Popen(
            [sys.executable, "-c", SAMPLER, str(os.getpid()), str(self.sink)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.sampler.stdout is not None and self.sampler.stdout.readline().strip() == b"ready"
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def peak(self) -> None:
        """Stop sampling and read the peaks."""
        out, _ = self.sampler.communicate(b"stop")
        self.rss, self.pss = (int(n) for n in out.split())


def cpu_seconds() -> float:
    """User + system time of this process and of its children that have ended (the sender processes)."""
    mine, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


@dataclass(frozen=True)
class DigestRun:
    sent: int
    empty: int
    planned: float  # seconds
    elapsed: float  # seconds, planning included
    cpu: float  # seconds of CPU, every process of the run
    rss: int  # bytes, peak of this process and the sender processes together
    pss: int  # the same, each shared page counted once


def run_digest(settings: Settings, now: datetime, sink: int) -> DigestRun:
    """One timed digest run from an empty outbox."""
    engine = make_engine(settings.database_url)
    with engine.begin() as conn:
        conn.execute(delete(Delivery))
    ruleset = load_rules(ROOT / "config" / "topics.toml")
    with TreeMemory(sink) as memory:
        cpu = cpu_seconds()
        started = time.perf_counter()
        plan = plan_edition(engine, settings, ruleset, now)
        planned = time.perf_counter() - started
        report = deliver_queued(engine, settings, ruleset, make_signer(settings, engine))
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds() - cpu
    memory.peak()
    engine.dispose()
    if report.sent != plan.queued or report.failed:
        sys.exit(f"benchmark run went wrong: queued {plan.queued}, sent {report.sent}, failed {report.failed}")
    return DigestRun(report.sent, plan.empty, planned, elapsed, cpu, memory.rss, memory.pss)


def digest_size(settings: Settings, now: datetime, subscribers: int, sample: int = 40) -> int:
    """The mean size of the digests this run will send, from previews of readers spread over all."""
    engine = make_engine(settings.database_url)
    ruleset = load_rules(ROOT / "config" / "topics.toml")
    signer = make_signer(settings, engine)
    sizes = []
    for i in range(1, subscribers + 1, max(1, subscribers // sample)):
        preview = preview_message(engine, settings, ruleset, signer, f"reader{i}@example.org", now)
        assert preview is not None
        sizes.append(len(preview.message.as_bytes()))
    engine.dispose()
    return sum(sizes) // len(sizes)


def run_baseline(port: int, count: int, size: int) -> tuple[float, float]:
    """Seconds (wall clock, CPU) for a bare smtplib loop over one connection to push ``count``
    pre-built messages of ``size`` bytes, one per reader."""
    head = (
        "From: Digest <digest@localhost>\r\nTo: {to}\r\nSubject: Digest\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    )
    line = "A line of a digest.\r\n"
    body = line * max(1, (size - len(head)) // len(line))
    # A thousand different messages, used in turn: a million pre-built copies would not fit in memory.
    messages = [(head + body).format(to=f"reader{i}@example.org").encode() for i in range(1, min(count, 1000) + 1)]
    cpu = cpu_seconds()
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i in range(count):
            smtp.sendmail("digest@localhost", [f"reader{i + 1}@example.org"], messages[i % len(messages)])
    return time.perf_counter() - started, cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=20_000)
    parser.add_argument("--database-url", help="default: a temporary SQLite file (give an empty database)")
    parser.add_argument(
        "--sink",
        choices=("both", "smtp-sink", "aiosmtpd"),
        default="both" if smtp_sink_binary() else "aiosmtpd",
        help="which SMTP sink to measure against (default: both when smtp-sink is installed)",
    )
    parser.add_argument("--processes", type=int, default=0, help="delivery.sender_processes (0: one per core)")
    parser.add_argument("--connections", type=int, default=4, help="delivery.connections (shared by the processes)")
    parser.add_argument(
        "--baseline-messages", type=int, help="messages per bare-loop baseline (default: min(N, 100000))"
    )
    args = parser.parse_args()
    baseline_messages = args.baseline_messages or min(args.subscribers, 100_000)
    sinks = {"smtp-sink": postfix_sink, "aiosmtpd": aiosmtpd_sink}
    chosen = list(sinks) if args.sink == "both" else [args.sink]
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=args.database_url or f"sqlite:///{tmp}/bench.db",
            secret_key="bench",
            delivery=DeliverySettings(connections=args.connections, sender_processes=args.processes),
        )
        populate(settings, args.subscribers, now)
        size = digest_size(settings, now, args.subscribers)
        print(f"send: {args.subscribers:,} subscribers, {settings.delivery.connections} SMTP connections")
        for name in chosen:
            with sinks[name]() as (port, pid):
                run_settings = settings.model_copy(update={"mail_url": f"smtp://127.0.0.1:{port}"})
                run = run_digest(run_settings, now, pid)
                count = min(baseline_messages, run.sent)
                baselines = {n: run_baseline(port, count, n) for n in (PLAIN_SIZE, size)}
            print(f"  sink {name}: {run.sent:,} digests of {size / 1000:.1f} kB on average", end="")
            print(f" ({run.empty:,} subscribers had nothing new)")
            if count < run.sent:
                print(f"    (each bare loop sends {count:,} messages: its rate per message is what is compared)")
            rate = f"{run.sent / run.elapsed:9,.0f}"
            print(f"    digest send (plan {run.planned:.1f} s + deliver)       {rate} digests/s,  CPU {run.cpu:.1f} s")
            for n, (seconds, cpu) in baselines.items():
                plain = f"{count / seconds:9,.0f}"
                print(
                    f"    bare smtplib, one connection, {n / 1000:4.1f} kB messages {plain} messages/s, CPU {cpu:.1f} s"
                )
                ratio = (run.sent / run.elapsed) / (count / seconds)
                print(f"      ratio digest / bare smtplib                 {ratio:9.2f}", end="")
                print(f"   (CPU time per message: {(cpu / count) / (run.cpu / run.sent):.2f})")
            memory = f"{run.rss / 2**20:,.0f} MiB resident ({run.pss / 2**20:,.0f} MiB counting shared pages once)"
            print(f"    peak memory, parent and sender processes together: {memory}")
            print(f"    load average {os.getloadavg()[0]:.1f} (on a shared machine the wall clock waits for cores)")


if __name__ == "__main__":
    main()

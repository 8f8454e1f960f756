"""What the reliability tests share: a newsroom of readers, `digest send` as a real process, an SMTP
server on loopback that notes when each command arrived, and the figures each test records."""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import Engine, insert, select

from digest.config import Settings
from digest.db.engine import session_scope
from digest.mail.models import Delivery
from digest.subscribers.models import Subscriber, SubscriberTopic
from digest.tagging.rules import Ruleset
from tests.conftest import ROOT, TOPICS
from tests.digests.helpers import ingest, rss

FIGURES = ROOT / "test-artifacts" / "reliability"
NEWS = rss(
    ("Court bans nudify apps", "https://wire.example/1", "<p>Deepfake images of pupils.</p>"),
    ("Regulator fines app over children's data", "https://wire.example/2", "<p>Users under 13.</p>"),
)


def newsroom(engine: Engine, settings: Settings, ruleset: Ruleset, count: int, prefix: str = "reader") -> list[str]:
    """``count`` readers who confirmed yesterday, each with one topic the day's two stories carry, in
    the order their digests will be claimed. Stored in bulk: these tests are about sending."""
    readers = [f"{prefix}{i:05d}@example.org" for i in range(count)]
    joined = datetime.now(UTC) - timedelta(days=1)
    people = [
        {
            "email": reader,
            "status": "confirmed",
            "frequency": "daily",
            "link_key": secrets.token_urlsafe(24),
            "created_at": joined,
            "confirmed_at": joined,
            "policy_version": settings.privacy.policy_version,
            "failed_deliveries": 0,
        }
        for reader in readers
    ]
    with session_scope(engine) as s:
        s.execute(insert(Subscriber), people)
        ids = dict(s.execute(select(Subscriber.email, Subscriber.id)).all())
        topics = [
            {"subscriber_id": ids[r], "topic": ("child-protection", "deepfakes")[i % 2]} for i, r in enumerate(readers)
        ]
        s.execute(insert(SubscriberTopic), topics)
    ingest(engine, ruleset, NEWS, datetime.now(UTC) - timedelta(minutes=5))
    return readers


def states(engine: Engine) -> dict[str, list[tuple[str, str | None, bool]]]:
    """Each reader's deliveries: (state, last error, handed over)."""
    query = select(Subscriber.email, Delivery.state, Delivery.last_error, Delivery.sent_at).join(
        Subscriber, Subscriber.id == Delivery.subscriber_id
    )
    rows: dict[str, list[tuple[str, str | None, bool]]] = {}
    with session_scope(engine) as s:
        for email, state, error, sent_at in s.execute(query):
            rows.setdefault(email, []).append((state, error, sent_at is not None))
    return rows


def in_flight(engine: Engine) -> set[str]:
    """Readers whose digest was being handed to the mail server (claimed and stamped, not yet recorded)."""
    return {r for r, rows in states(engine).items() for state, _e, handed in rows if state == "sending" and handed}


def digest_env(database_url: str, mail_url: str, **settings: object) -> dict[str, str]:
    """The environment of a `digest` process: our database and mail server, ``section__key`` settings."""
    env = {
        **os.environ,
        "DIGEST_DATABASE_URL": database_url,
        "DIGEST_MAIL_URL": mail_url,
        "DIGEST_SECRET_KEY": "k",
        "DIGEST_TOPICS_FILE": str(TOPICS),
        "DIGEST_BASE_URL": "http://127.0.0.1",
    }
    env.update({f"DIGEST_{key.upper()}": str(value) for key, value in settings.items()})
    return env


@contextmanager
def sending(env: dict[str, str], *args: str) -> Iterator[subprocess.Popen[str]]:
    """`digest send ARGS` as a process of its own, killed if the test ends while it still runs."""
    process = subprocess.Popen(
        [sys.executable, "-m", "digest", "send", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


def later(minutes: float, shift: timedelta = timedelta(0)) -> str:
    """A --now value this many minutes from the real time (moved by ``shift``, see one_edition)."""
    return (datetime.now(UTC) + shift + timedelta(minutes=minutes)).isoformat()


def one_edition(span_minutes: float) -> timedelta:
    """How far to move a test's clock so that the next ``span_minutes`` fall in one edition: editions
    change at midnight (UTC by default), and a run started just before it would plan the next day's."""
    now = datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    if now + timedelta(minutes=span_minutes) < midnight:
        return timedelta(0)
    return midnight + timedelta(minutes=1) - now


def summary_count(output: str, label: str) -> int:
    """A number from the send summary ("sent 5, ..., not sent (unsubscribed meanwhile) 2")."""
    found = re.search(rf"(?<![\w-]){re.escape(label)} (\d+)", output)
    assert found is not None, f"no {label!r} in {output!r}"
    return int(found.group(1))


def record_figures(name: str, figures: dict[str, Any]) -> None:
    """Keep what a test measured (test-artifacts/reliability/NAME.json) for the README's figures."""
    FIGURES.mkdir(parents=True, exist_ok=True)
    (FIGURES / f"{name}.json").write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


@dataclass
class Arrival:
    recipient: str
    rcpt_at: float  # time.monotonic() when RCPT TO arrived
    data_at: float  # when the whole message had arrived and was accepted


@dataclass
class RecordingSink:
    """An SMTP server's handler that accepts everything and notes when; subclasses refuse some."""

    accepted: list[Arrival] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    rcpt_times: dict[Envelope, list[float]] = field(default_factory=dict)
    pipelining: bool = False  # offer PIPELINING (RFC 2920), as Postfix does

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        answer = await self.answer_rcpt(server, address)
        if answer.startswith("250"):
            envelope.rcpt_tos.append(address)
            self.rcpt_times.setdefault(envelope, []).append(time.monotonic())
        return answer

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        answer = await self.answer_data(server, envelope)
        times = self.rcpt_times.pop(envelope, [])
        if answer.startswith("250"):
            now = time.monotonic()
            with self.lock:
                for address, when in zip(envelope.rcpt_tos, times, strict=True):
                    self.accepted.append(Arrival(str(address), when, now))
        return answer

    async def answer_rcpt(self, server: SMTP, address: str) -> str:
        return "250 OK"

    async def answer_data(self, server: SMTP, envelope: Envelope) -> str:
        return "250 Message accepted"

    def received(self) -> Counter[str]:
        with self.lock:
            return Counter(a.recipient for a in self.accepted)

    def count(self) -> int:
        with self.lock:
            return len(self.accepted)


@contextmanager
def smtp_server(handler: RecordingSink) -> Iterator[str]:
    """A real SMTP server (aiosmtpd) on an ephemeral loopback port; yields its smtp:// URL."""
    with socket.socket() as probe:  # aiosmtpd needs a concrete port to check that it started
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


def wait_until(condition: Any, timeout: float, step: float = 0.005) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True

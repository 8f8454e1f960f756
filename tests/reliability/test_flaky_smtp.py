"""A mail server that answers 421 and 451 at random, refuses some recipients for good, drops the
connection after the message's data and stalls past the timeout: every reader it does not refuse gets
exactly one message in the end, refusals are recorded with the server's answer, and no run hangs."""

from __future__ import annotations

import asyncio
import random
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.smtp import SMTP, Envelope
from sqlalchemy import Engine, func, select

from digest.config import Settings
from digest.db.engine import session_scope
from digest.mail.models import Delivery
from digest.tagging.rules import Ruleset
from tests.reliability.harness import (
    RecordingSink,
    digest_env,
    newsroom,
    one_edition,
    record_figures,
    sending,
    smtp_server,
    states,
)

pytestmark = pytest.mark.reliability

TIMEOUT = 3  # seconds the sender waits for an answer (delivery.smtp_timeout_seconds)
ROUNDS = 12


@dataclass
class FlakySink(RecordingSink):
    """Misbehaves at random (fixed seed), and at least once in each way before that."""

    refused: set[str] = field(default_factory=set)
    chance: random.Random = field(default_factory=lambda: random.Random(1201))
    script: list[str] = field(default_factory=lambda: ["421", "drop", "451", "stall", "451-data", "drop"])
    stalls_left: int = 2
    events: Counter[str] = field(default_factory=Counter)

    def _next(self, *kinds: str) -> str | None:
        if self.script and self.script[0] in kinds:
            return self.script.pop(0)
        return None

    async def answer_rcpt(self, server: SMTP, address: str) -> str:
        if address in self.refused:
            self.events["550"] += 1
            return f"550 5.1.1 <{address}>: no such mailbox here"
        roll = self.chance.random()
        kind = self._next("421", "451") or ("421" if roll < 0.05 else "451" if roll < 0.12 else None)
        if kind == "421":
            self.events["421"] += 1
            return "421 4.3.2 Too busy, closing the connection"
        if kind == "451":
            self.events["451"] += 1
            return "451 4.3.0 Try again later"
        return "250 OK"

    async def answer_data(self, server: SMTP, envelope: Envelope) -> str:
        roll = self.chance.random()
        kind = self._next("drop", "stall", "451-data")
        if kind is None:
            kind = "drop" if roll < 0.05 else "451-data" if roll < 0.09 else "stall" if roll < 0.10 else None
        if kind == "stall" and self.stalls_left:
            self.stalls_left -= 1
            self.events["stall"] += 1
            await asyncio.sleep(TIMEOUT + 2)  # the sender has given up by now: this one was not taken
            return "451 4.4.2 Timed out"
        if kind == "drop":
            self.events["drop"] += 1
            assert server.transport is not None
            server.transport.close()  # the whole message came in, and no answer goes out
            return "451 4.4.2 Connection dropped"
        if kind == "451-data":
            self.events["451"] += 1
            return "451 4.3.0 Queue full, try again later"
        return "250 Message accepted"


def due(engine: Engine) -> datetime | None:
    """When the last digest still waiting in the queue falls due; None when the queue is drained."""
    with session_scope(engine) as s:
        waiting = s.scalar(select(func.count()).select_from(Delivery).where(Delivery.state.in_(("queued", "sending"))))
        latest = s.scalar(select(func.max(Delivery.next_attempt_at)).where(Delivery.state == "queued"))
    return (latest or datetime.now(UTC)) if waiting else None


@pytest.mark.parametrize("pipelining", [False, True], ids=["step-by-step", "pipelined"])
def test_a_flaky_mail_server_loses_nobody(
    engine: Engine, settings: Settings, database_url: str, ruleset: Ruleset, pipelining: bool
) -> None:
    readers = newsroom(engine, settings, ruleset, 200)
    gone = set(readers[7::25])
    sink = FlakySink(refused=gone, pipelining=pipelining)
    runs = hung = 0
    with smtp_server(sink) as mail_url:
        env = digest_env(
            database_url,
            mail_url,
            delivery__connections=2,
            delivery__smtp_timeout_seconds=TIMEOUT,
            delivery__retry_minutes=1,
            delivery__max_attempts=12,
        )
        # The first run plans the edition; every run's clock stays in it, even shortly before midnight.
        clock = datetime.now(UTC) + one_edition(60)
        when: datetime | None = clock
        while when is not None and runs < ROUNDS:
            # Each run starts when every retry waiting in the queue has fallen due (--now).
            clock = max(clock, when) + timedelta(seconds=1)
            with sending(env, "--now", clock.isoformat()) as sender:
                try:
                    _out, err = sender.communicate(timeout=120)
                except subprocess.TimeoutExpired:
                    hung += 1
                    sender.kill()
                    _out, err = sender.communicate()
                assert sender.returncode in (0, 1), err  # 1: everything left failed for good
            runs += 1
            when = due(engine)
    received = sink.received()
    lost = [r for r in readers if r not in gone and received[r] == 0]
    repeated = sum(n - 1 for n in received.values() if n > 1)
    record_figures(
        f"flaky-smtp-{engine.dialect.name}" + ("-pipelined" if pipelining else ""),
        {"runs": runs, "readers": len(readers), "lost": len(lost), "repeated": repeated, "hung": hung}
        | {f"answers {k}": v for k, v in sink.events.items()},
    )
    assert (lost, repeated, hung) == ([], 0, 0)
    assert not set(received) & gone
    assert {"421", "451", "550", "drop", "stall"} <= set(sink.events)
    rows = states(engine)
    for reader in readers:
        ((state, error, _handed),) = rows[reader]
        if reader in gone:  # failed for good at once, with what the server said
            assert state == "failed" and f"550 5.1.1 <{reader}>: no such mailbox here" in (error or "")
        else:
            assert state == "sent"

"""`digest send` killed with SIGKILL at random moments, then run again: nobody misses their digest,
at most the messages in flight at each kill arrive twice, and no row is left "sending"."""

from __future__ import annotations

import random
import signal
import time

import pytest
from sqlalchemy import Engine

from digest.config import Settings
from digest.tagging.rules import Ruleset
from tests.reliability.harness import (
    RecordingSink,
    digest_env,
    in_flight,
    later,
    newsroom,
    one_edition,
    record_figures,
    sending,
    smtp_server,
    states,
    wait_until,
)

pytestmark = pytest.mark.reliability

KILLS = 10
CONNECTIONS = 2
CLAIM_TIMEOUT = 1  # minutes; each run after a kill is started that much later by --now


@pytest.mark.parametrize("pipelining", [False, True], ids=["step-by-step", "pipelined"])
def test_kill_9_at_random_moments_loses_nothing(
    engine: Engine, settings: Settings, database_url: str, ruleset: Ruleset, pipelining: bool
) -> None:
    chance = random.Random(20261201)
    readers = newsroom(engine, settings, ruleset, 400)
    sink = RecordingSink(pipelining=pipelining)
    with smtp_server(sink) as mail_url:
        env = digest_env(
            database_url,
            mail_url,
            delivery__connections=CONNECTIONS,
            delivery__claim_timeout_minutes=CLAIM_TIMEOUT,
        )
        # Every run's clock within one edition, even when the test starts shortly before midnight.
        shift = one_edition(KILLS * (CLAIM_TIMEOUT + 1) + 15)
        repeatable: set[str] = set()  # readers whose message may arrive twice: in flight at a kill
        for trial in range(KILLS):
            # Each run is started (by its clock) after the claims of the run killed before it expired.
            with sending(env, "--now", later(trial * (CLAIM_TIMEOUT + 1), shift)) as sender:
                before = sink.count()
                if chance.random() < 0.3:
                    time.sleep(chance.uniform(0.0, 2.5))  # anywhere: starting, planning, claiming, sending
                else:
                    target = before + chance.randint(1, 30)  # in the middle of sending
                    wait_until(lambda: sink.count() >= target or sender.poll() is not None, 60)  # noqa: B023
                sender.send_signal(signal.SIGKILL)
                _out, err = sender.communicate(timeout=30)
                assert sender.returncode in (-signal.SIGKILL, 0), err
            flying = in_flight(engine)
            assert len(flying) <= CONNECTIONS
            repeatable |= flying
        with sending(env, "--now", later(KILLS * (CLAIM_TIMEOUT + 1), shift)) as last:
            _out, err = last.communicate(timeout=120)
            assert last.returncode == 0, err
    received = sink.received()
    missing = [r for r in readers if received[r] == 0]
    repeated = {r: n - 1 for r, n in received.items() if n > 1}
    record_figures(
        f"kill-{engine.dialect.name}" + ("-pipelined" if pipelining else ""),
        {"trials": KILLS, "readers": len(readers), "lost": len(missing), "repeated": sum(repeated.values())},
    )
    assert missing == []
    assert set(repeated) <= repeatable
    assert sum(repeated.values()) <= CONNECTIONS * KILLS
    assert {state for rows in states(engine).values() for state, _e, _h in rows} == {"sent"}

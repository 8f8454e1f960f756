"""The scheduler with review = "approve": the send job plans and waits, an approved edition goes out
at the next retry tick, and the review deadline sends an unapproved one."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from digest.config import DigestSettings, Settings
from digest.db.engine import session_scope
from digest.digests import edition_store, review
from digest.digests.editions import edition_for
from digest.scheduler import Runtime, build_scheduler, retry_job, send_job
from digest.subscribers.links import make_signer
from digest.tagging.rules import Ruleset
from tests.conftest import ROOT
from tests.digests.helpers import ingest, subscribe
from tests.mailbox import messages

SAMPLE = (ROOT / "config" / "sample-feeds" / "cyberlaw-wire.xml").read_bytes()


def start(engine: Engine, settings: Settings, ruleset: Ruleset) -> None:
    runtime = Runtime(settings, engine, ruleset, make_signer(settings, engine))
    build_scheduler(runtime, 60).shutdown(wait=False)  # registers the runtime for the jobs


@pytest.fixture
def desk(engine: Engine, database_url: str, ruleset: Ruleset, tmp_path: Path) -> Settings:
    settings = Settings(
        database_url=database_url,
        mail_url=f"file://{tmp_path}/outbox",
        secret_key="k",
        digest=DigestSettings(review="approve"),
    )
    subscribe(
        engine, settings, "deep@example.org", ["deepfakes"], "daily", datetime.now(UTC) - timedelta(days=1), ruleset
    )
    ingest(engine, ruleset, SAMPLE, datetime.now(UTC))
    return settings


def test_the_send_job_plans_and_waits_for_approval(
    engine: Engine, desk: Settings, ruleset: Ruleset, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    start(engine, desk, ruleset)
    key = edition_for("daily", datetime.now(UTC), "UTC")
    with caplog.at_level(logging.INFO, logger="digest.run"):
        send_job()
        retry_job()  # not approved: still nothing
    assert messages(tmp_path / "outbox") == []
    assert any(f"1 waiting for approval of {key}" in r.getMessage() for r in caplog.records)
    with session_scope(engine) as s:
        review.approve(s, key, "alice", datetime.now(UTC))
    with caplog.at_level(logging.INFO, logger="digest.run"):
        retry_job()
    assert [m["To"] for m in messages(tmp_path / "outbox")] == ["deep@example.org"]
    lines = [r.getMessage() for r in caplog.records]
    assert "retry: 1 digests of approved editions queued" in lines and f"edition {key} is sent" in lines
    retry_job()
    assert len(messages(tmp_path / "outbox")) == 1


def test_the_review_deadline_sends_at_the_retry_tick(
    engine: Engine, desk: Settings, ruleset: Ruleset, tmp_path: Path
) -> None:
    passed = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%H:%M")
    settings = desk.model_copy(update={"digest": DigestSettings(review="approve", review_deadline=passed)})
    start(engine, settings, ruleset)
    key = edition_for("daily", datetime.now(UTC), "UTC")
    send_job()  # planned just now: the deadline comes next at that time tomorrow
    assert messages(tmp_path / "outbox") == []
    with session_scope(engine) as s:
        edition = edition_store.by_key(s, key)
        assert edition is not None and edition.planned_at is not None
        edition.planned_at -= timedelta(minutes=2)  # planned before today's deadline instead
    retry_job()
    assert [m["To"] for m in messages(tmp_path / "outbox")] == ["deep@example.org"]
    with session_scope(engine) as s:
        edition = edition_store.by_key(s, key)
        assert edition is not None and edition.state == "sent"
        assert [d.action for d in edition_store.decisions(s, edition.id)] == ["deadline"]

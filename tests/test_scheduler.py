"""The scheduler: jobs call the same work as the CLI, missed runs coalesce, SIGTERM stops cleanly."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from sqlalchemy import Engine, text

from digest.config import FeedSettings, Settings
from digest.db.engine import session_scope
from digest.feeds import store
from digest.monitoring import store as monitoring_store
from digest.scheduler import Runtime, build_scheduler, poll_job, send_job
from digest.subscribers.links import make_signer
from digest.tagging.rules import Ruleset
from tests.conftest import ROOT, TOPICS
from tests.digests.helpers import subscribe
from tests.httpserver import FeedServer, Route
from tests.mailbox import messages

SAMPLE = (ROOT / "config" / "sample-feeds" / "cyberlaw-wire.xml").read_bytes()


def runtime(engine: Engine, settings: Settings, ruleset: Ruleset) -> Runtime:
    return Runtime(settings, engine, ruleset, make_signer(settings, engine))


def test_jobs_poll_due_feeds_and_send_the_edition(
    engine: Engine,
    database_url: str,
    ruleset: Ruleset,
    feed_server: FeedServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings(
        database_url=database_url,
        mail_url=f"file://{tmp_path}/outbox",
        secret_key="k",
        feeds=FeedSettings(allow_private_networks=True),  # the feed server is on loopback
    )
    subscribe(
        engine, settings, "deep@example.org", ["deepfakes"], "daily", datetime.now(UTC) - timedelta(days=1), ruleset
    )
    with session_scope(engine) as s:
        store.add_feed(s, feed_server.add("/wire.xml", Route(SAMPLE)), None, datetime.now(UTC))
    build_scheduler(runtime(engine, settings, ruleset), 60).shutdown(wait=False)  # registers the runtime
    with caplog.at_level(logging.INFO, logger="digest.run"):
        poll_job()
        poll_job()  # nothing is due any more
        send_job()
    lines = [r.getMessage() for r in caplog.records if r.name == "digest.run"]
    assert lines[0] == "poll: 1 feeds polled, 1 ok, 0 not modified, 0 failed, 6 new stories"
    assert lines[1].startswith("poll: 0 feeds polled")
    assert lines[2] == "send: 1 queued, 0 with nothing new; sent 1, failed 0, retrying 0, cancelled 0"
    assert [m["To"] for m in messages(tmp_path / "outbox")] == ["deep@example.org"]
    # Each run is counted in the database, for /metrics in the web process.
    with session_scope(engine) as s:
        runs = {(r.job, r.outcome): r.runs for r in monitoring_store.job_stats(s)}
        assert runs == {("poll", "ok"): 2, ("send", "ok"): 1}
        assert monitoring_store.poll_counts(s) == {"ok": 1}


def test_a_send_missed_during_downtime_runs_once(
    engine: Engine, database_url: str, ruleset: Ruleset, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(database_url=database_url, mail_url=f"file://{tmp_path}/outbox", secret_key="k")
    first = build_scheduler(runtime(engine, settings, ruleset), 3600)
    first.shutdown(wait=True)
    # The service was down for three days: the stored send job is three days overdue.
    jobs = SQLAlchemyJobStore(engine=engine, tablename="scheduler_jobs")
    jobs.start(first, "default")
    send = jobs.lookup_job("send")
    send._modify(next_run_time=datetime.now(UTC) - timedelta(days=3))
    jobs.update_job(send)
    with caplog.at_level(logging.INFO, logger="digest.run"):
        scheduler = build_scheduler(runtime(engine, settings, ruleset), 3600)
        scheduler.resume()
        time.sleep(1.5)
        scheduler.shutdown(wait=True)
    sends = [r for r in caplog.records if r.getMessage().startswith("send:")]
    assert len(sends) == 1
    next_send = scheduler.get_job("send") if scheduler.running else None
    assert next_send is None  # shut down; the stored job now points to the next day
    with engine.begin() as connection:
        stored = connection.execute(text("SELECT next_run_time FROM scheduler_jobs WHERE id = 'send'")).scalar()
    assert stored is not None and stored > datetime.now(UTC).timestamp()


def test_digest_run_stops_cleanly_on_sigterm(tmp_path: Path, feed_server: FeedServer) -> None:
    env = {
        **os.environ,
        "DIGEST_DATABASE_URL": f"sqlite:///{tmp_path}/run.db",
        "DIGEST_TOPICS_FILE": str(TOPICS),
        "DIGEST_MAIL_URL": f"file://{tmp_path}/outbox",
        "DIGEST_FEEDS__ALLOW_PRIVATE_NETWORKS": "true",
    }
    digest = [sys.executable, "-m", "digest"]
    subprocess.run([*digest, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run(
        [*digest, "feeds", "add", feed_server.add("/wire.xml", Route(SAMPLE))], env=env, check=True, capture_output=True
    )
    process = subprocess.Popen([*digest, "run", "--tick", "1"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        log: list[str] = []
        assert process.stderr is not None
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            log.append(line)
            if "poll: 1 feeds polled" in line:
                break
        process.send_signal(signal.SIGTERM)
        _out, rest = process.communicate(timeout=20)
        log.append(rest)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    text_log = "".join(log)
    assert "poll: 1 feeds polled, 1 ok, 0 not modified, 0 failed, 6 new stories" in text_log
    assert "stopping on SIGTERM" in text_log and text_log.rstrip().endswith("stopped")


def test_the_send_job_fires_at_the_configured_local_time(engine: Engine, database_url: str, ruleset: Ruleset) -> None:
    from zoneinfo import ZoneInfo

    from digest.config import DigestSettings

    settings = Settings(
        database_url=database_url, secret_key="k", digest=DigestSettings(timezone="Europe/London", send_time="07:30")
    )
    scheduler = build_scheduler(runtime(engine, settings, ruleset), 60)
    try:
        trigger = scheduler.get_job("send").trigger
        london = ZoneInfo("Europe/London")
        # A fake clock: just after today's send, and just before it.
        after = trigger.get_next_fire_time(None, datetime(2026, 11, 24, 8, 0, tzinfo=london))
        before = trigger.get_next_fire_time(None, datetime(2026, 11, 24, 7, 0, tzinfo=london))
        assert after == datetime(2026, 11, 25, 7, 30, tzinfo=london)
        assert before == datetime(2026, 11, 24, 7, 30, tzinfo=london)
        summer = trigger.get_next_fire_time(None, datetime(2026, 7, 1, 8, 0, tzinfo=london))
        assert summer.utcoffset() == timedelta(hours=1) and (summer.hour, summer.minute) == (7, 30)
    finally:
        scheduler.shutdown(wait=False)

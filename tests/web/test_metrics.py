"""/metrics: off unless asked, a bearer token when set, and numbers read from the database, so they
count what the scheduler and the command line did in other processes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, text

from digest.config import MetricsSettings, Settings
from digest.db.engine import session_scope
from digest.feeds import store as feed_store
from digest.mail.models import Delivery
from digest.monitoring.counting import counted, record_polls
from digest.subscribers import store
from digest.tagging.rules import Ruleset
from digest.web.app import create_app
from tests.digests.helpers import ingest, rss


def scrape(client: TestClient, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def app_with(settings: Settings, engine: Engine, ruleset: Ruleset, **metrics: object) -> TestClient:
    return TestClient(create_app(settings.model_copy(update={"metrics": MetricsSettings(**metrics)}), engine, ruleset))


def test_metrics_are_off_by_default(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 404


def test_a_metrics_token_is_required_when_set(web_settings: Settings, engine: Engine, ruleset: Ruleset) -> None:
    client = app_with(web_settings, engine, ruleset, enabled=True, token="scrape-secret")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    got = scrape(client, Authorization="Bearer scrape-secret")
    assert got[("digest_stories", ())] == 0 and got[("digest_complaints", ())] == 0


def failing() -> None:
    raise RuntimeError("the mail server went away")


@pytest.fixture
def bounce_table(engine: Engine) -> None:
    """Bounces and a complaint in the bounces domain's table: the metrics find it by name and kind column."""
    with engine.begin() as connection:
        for n, kind in enumerate(["hard", "hard", "complaint"]):
            connection.execute(
                text(
                    "INSERT INTO bounce_events (report_key, kind, source, status, reason, action, tied_by, received_at)"
                    " VALUES (:key, :kind, 'file', '', '', 'none', '', :at)"
                ),
                {"key": f"r{n}", "kind": kind, "at": datetime.now(UTC)},
            )


def test_the_numbers_come_from_the_database(
    web_settings: Settings, engine: Engine, ruleset: Ruleset, bounce_table: None
) -> None:
    client = app_with(web_settings, engine, ruleset, enabled=True)
    now = datetime.now(UTC)  # here, not at import: the send rate counts the last 5 minutes
    ingest(engine, ruleset, rss(("Deepfake app fined", "https://n.example/1", "A deepfake nude app.")), now)
    with session_scope(engine) as session:
        feed_store.add_feed(session, "https://broken.example/rss", None, now).status = "error"
        for n, state in enumerate(["sent", "sent", "failed"]):
            person = store.create(session, f"r{n}@example.org", "daily", now)
            person.status = "confirmed"
            sent_at = now - timedelta(minutes=1) if state == "sent" else None
            session.add(
                Delivery(subscriber_id=person.id, edition="daily:x", state=state, window_end=now, sent_at=sent_at)
            )
    # Another process's work: two polls and three job runs, one of them failing.
    record_polls(engine, ["ok", "ok", "error"])
    record_polls(engine, ["not-modified"])
    job = counted("poll", lambda: engine)(lambda: None)
    job()
    job()
    with pytest.raises(RuntimeError):
        counted("send", lambda: engine)(failing)()

    got = scrape(client)
    assert got[("digest_feed_polls_total", (("outcome", "ok"),))] == 2
    assert got[("digest_feed_polls_total", (("outcome", "error"),))] == 1
    assert got[("digest_feed_polls_total", (("outcome", "not-modified"),))] == 1
    assert got[("digest_feeds", (("status", "error"),))] == 1 and got[("digest_feeds_in_error", ())] == 1
    assert got[("digest_feeds", (("status", "paused"),))] == 0
    assert got[("digest_stories", ())] == 1
    assert got[("digest_stories_by_topic", (("topic", "deepfakes"),))] == 1
    assert (
        got[("digest_deliveries", (("state", "sent"),))] == 2
        and got[("digest_deliveries", (("state", "failed"),))] == 1
    )
    assert got[("digest_send_rate_per_second", ())] == pytest.approx(2 / 300)
    assert got[("digest_subscribers", (("status", "confirmed"),))] == 3
    assert got[("digest_job_runs_total", (("job", "poll"), ("outcome", "ok")))] == 2
    assert got[("digest_job_runs_total", (("job", "send"), ("outcome", "error")))] == 1
    assert got[("digest_job_duration_seconds_total", (("job", "poll"), ("outcome", "ok")))] >= 0
    assert got[("digest_job_last_run_timestamp_seconds", (("job", "poll"),))] == pytest.approx(now.timestamp(), abs=120)
    assert got[("digest_bounces", (("kind", "hard"),))] == 2 and got[("digest_complaints", ())] == 1
    assert all(name.startswith("digest_") for name, _labels in got)

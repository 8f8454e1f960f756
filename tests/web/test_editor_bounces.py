"""The console shows what came back: counts per edition, the sending health panel in red when over the
providers' thresholds, each event in the subscriber's history, and one report at a time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from digest.bounces.process import Processor
from digest.config import Settings
from digest.db.engine import session_scope
from digest.digests.build import plan_edition
from digest.digests.deliver import deliver_queued
from digest.subscribers import store as subscribers
from digest.subscribers.links import make_signer
from digest.tagging.rules import Ruleset
from tests.bounces.reports import hard_bounce
from tests.digests.helpers import ingest, rss, subscribe


def test_counts_health_history_and_one_report(
    editor_client: TestClient, web_settings: Settings, engine: Engine, ruleset: Ruleset
) -> None:
    now = datetime.now(UTC)
    for reader in ("gone@example.net", "stays@example.net"):
        subscribe(engine, web_settings, reader, ["deepfakes"], "daily", now - timedelta(days=2), ruleset)
    ingest(
        engine, ruleset, rss(("Deepfake fraud reaches court", "https://wire.example/1", "")), now - timedelta(hours=2)
    )
    plan_edition(engine, web_settings, ruleset, now)
    assert deliver_queued(engine, web_settings, ruleset, make_signer(web_settings, engine)).sent == 2

    page = editor_client.get("/editor/deliveries").text
    assert "Sending health" in page and "0.00 % (0)" in page and "over" not in page

    Processor(engine, web_settings, ["test-signing-key"]).process_message(hard_bounce("gone@example.net", "x"), "file")
    page = editor_client.get("/editor/deliveries").text
    assert re.search(r'<td class="bad">50\.00 % \(1\) <strong>over</strong></td>', page)  # bounces over 2 %
    edition = re.search(r'href="/editor/editions/(\d{4}-\d\d-\d\d)"', page)
    assert edition is not None
    assert (
        "bounced <strong>1</strong> · complained <strong>0</strong>"
        in editor_client.get(f"/editor/editions/{edition.group(1)}").text
    )

    with session_scope(engine) as s:
        person = subscribers.by_email(s, "gone@example.net")
        assert person is not None
        person_id = person.id
    history = editor_client.get(f"/editor/deliveries/subscriber/{person_id}").text
    assert "What came back" in history and "<code>5.1.1</code>" in history and "suppressed" in history
    link = re.search(r'href="(/editor/bounces/\d+)"', history)
    assert link is not None
    shown = editor_client.get(link.group(1))
    assert shown.status_code == 200 and "Undelivered Mail Returned to Sender" in shown.text
    assert "&lt;gone@example.net&gt;" in shown.text  # the report as text, escaped
    assert editor_client.get("/editor/bounces/999999").status_code == 404


def test_reports_are_for_editors_only(client: TestClient) -> None:
    assert client.get("/editor/bounces/1").status_code == 303  # to the sign-in page

"""The console's subscribers over real HTTP: search limits, one person's page and actions, CSV import."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from digest.cli.main import cli
from digest.config import Settings
from digest.db.engine import session_scope
from digest.subscribers import store
from digest.subscribers.importer import add_subscriber
from digest.subscribers.privacy import is_suppressed
from digest.tagging.rules import Ruleset
from tests.conftest import TOPICS
from tests.digests.helpers import subscribe
from tests.mailbox import link, messages
from tests.web.conftest import csrf, notice


def _pending(engine: Engine, settings: Settings, ruleset: Ruleset, email: str) -> int:
    with session_scope(engine) as s:
        add_subscriber(s, settings, email, ["deepfakes"], "weekly", False, ruleset.slugs, datetime.now(UTC))
        person = store.by_email(s, email)
        assert person is not None
        return person.id


def test_search_never_lists_everyone(
    editor_client: TestClient, engine: Engine, web_settings: Settings, ruleset: Ruleset
) -> None:
    for name in ("ann", "bob", "annabel"):
        subscribe(engine, web_settings, f"{name}@example.org", ["deepfakes"], "daily", datetime.now(UTC), ruleset)
    page = editor_client.get("/editor/subscribers")
    assert "confirmed 3" in page.text and "ann@example.org" not in page.text
    assert "ann@example.org" not in editor_client.get("/editor/subscribers?q=an").text  # too short to search
    found = editor_client.get("/editor/subscribers?q=ann")
    assert "ann@example.org" in found.text and "annabel@example.org" in found.text and "bob@" not in found.text
    for n in range(25):
        subscribe(engine, web_settings, f"many{n:02d}@example.org", ["deepfakes"], "daily", datetime.now(UTC), ruleset)
    assert editor_client.get("/editor/subscribers?q=many").text.count("@example.org</a>") == 20


def test_resending_the_confirmation_to_a_pending_reader(
    editor_client: TestClient, engine: Engine, web_settings: Settings, ruleset: Ruleset, outbox: Path
) -> None:
    person = _pending(engine, web_settings, ruleset, "slow@example.org")
    page = editor_client.get(f"/editor/subscribers/{person}")
    assert "<h1>slow@example.org</h1>" in page.text and "Resend the confirmation mail" in page.text
    sent = editor_client.post(
        f"/editor/subscribers/{person}/resend", data={"csrf": csrf(page.text)}, follow_redirects=True
    )
    assert notice(sent.text) == "success: Done: subscriber slow@example.org A new confirmation mail is on its way."
    mail = messages(outbox)
    assert len(mail) == 1 and mail[0]["To"] == "slow@example.org"
    assert editor_client.get(link(mail[0], "confirm")).status_code == 200  # the link works
    again = editor_client.post(
        f"/editor/subscribers/{person}/resend", data={"csrf": csrf(page.text)}, follow_redirects=True
    )
    assert (
        notice(again.text)
        == "error: Not done: subscriber slow@example.org Not pending (confirmed): nothing to confirm."
    )


def test_unsubscribing_on_request_is_recorded_as_such(
    editor_client: TestClient, engine: Engine, web_settings: Settings, ruleset: Ruleset
) -> None:
    subscribe(engine, web_settings, "done@example.org", ["deepfakes"], "daily", datetime.now(UTC), ruleset)
    with session_scope(engine) as s:
        person = store.by_email(s, "done@example.org")
        assert person is not None
        person_id = person.id
    page = editor_client.get(f"/editor/subscribers/{person_id}")
    out = editor_client.post(
        f"/editor/subscribers/{person_id}/unsubscribe", data={"csrf": csrf(page.text)}, follow_redirects=True
    )
    assert notice(out.text) == (
        "success: Done: subscriber done@example.org Unsubscribed on their request; nothing more is sent."
    )
    assert "by an editor, on the reader&#39;s request" in out.text
    with session_scope(engine) as s:
        person = store.by_email(s, "done@example.org")
        assert person is not None and person.status == "unsubscribed"
        assert [(e.action, e.method) for e in store.consents(s, person)][-1] == ("unsubscribed", "editor-on-request")
    exported = editor_client.get(f"/editor/subscribers/{person_id}/export")
    assert exported.headers["content-disposition"] == f'attachment; filename="subscriber-{person_id}.json"'
    data = json.loads(exported.text)
    assert data["email"] == "done@example.org" and data["status"] == "unsubscribed"
    assert data["consent_events"][-1]["method"] == "editor-on-request"


def test_erasing_needs_the_box_ticked_and_leaves_only_the_hash(
    editor_client: TestClient, engine: Engine, web_settings: Settings, ruleset: Ruleset
) -> None:
    person = _pending(engine, web_settings, ruleset, "forget.me@example.org")
    page = editor_client.get(f"/editor/subscribers/{person}")
    unticked = editor_client.post(
        f"/editor/subscribers/{person}/erase", data={"csrf": csrf(page.text)}, follow_redirects=True
    )
    assert "Tick the box to confirm they asked to be erased" in notice(unticked.text)
    erased = editor_client.post(
        f"/editor/subscribers/{person}/erase", data={"csrf": csrf(page.text), "confirm": "yes"}, follow_redirects=True
    )
    assert notice(erased.text) == (
        "success: Done: subscriber forget.me@example.org Erased; only a salted hash remains, "
        "so imports will skip the address."
    )
    with session_scope(engine) as s:
        assert store.by_email(s, "forget.me@example.org") is None and is_suppressed(s, "forget.me@example.org")
    gone = editor_client.get(f"/editor/subscribers/{person}", follow_redirects=True)
    assert notice(gone.text) == "error: Not done: a subscriber No such subscriber (erased?)"


def test_csv_import_from_the_browser_reports_as_the_cli_does(
    editor_client: TestClient, engine: Engine, web_settings: Settings, database_url: str, tmp_path: Path
) -> None:
    rows = "email,topics,frequency,confirmed\nnew@example.org,deepfakes,daily,yes\nnot-an-address,deepfakes,daily,no\n"
    page = editor_client.get("/editor/subscribers")
    answer = editor_client.post(
        "/editor/subscribers/import",
        data={"csrf": csrf(page.text), "topics": "", "frequency": ""},
        files={"file": ("people.csv", rows.encode(), "text/csv")},
    )
    assert answer.status_code == 200
    assert notice(answer.text) == "success: Done: importing subscribers Imported 1, skipped 0, 1 bad rows"
    assert "line 3: error: &#39;not-an-address&#39; is not a valid email address" in answer.text
    again_file = tmp_path / "again.csv"
    again_file.write_text(rows)
    cli_run = CliRunner().invoke(
        cli,
        ["subscribers", "import", str(again_file)],
        env={"DIGEST_DATABASE_URL": database_url, "DIGEST_TOPICS_FILE": str(TOPICS)},
    )
    assert "line 2: skipped: new@example.org is already on the list (confirmed)" in cli_run.output
    assert "line 3: error: 'not-an-address' is not a valid email address" in cli_run.output
    empty = editor_client.post(
        "/editor/subscribers/import",
        data={"csrf": csrf(page.text), "topics": "deepfakes", "frequency": "weekly"},
        files={"file": ("empty.csv", b"", "text/csv")},
    )
    assert empty.status_code == 400 and "Choose a CSV file to import" in notice(empty.text)
    assert 'value="deepfakes"' in empty.text and 'value="weekly" checked' in empty.text

"""The console's edition desk and deliveries view over real HTTP requests, on a real database."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from digest.config import Settings
from digest.db.engine import session_scope
from digest.digests import edition_store
from digest.digests.build import plan_edition
from digest.digests.editions import edition_for
from digest.feeds.models import Story
from digest.subscribers import store as subscribers
from digest.tagging.rules import Ruleset
from tests.digests.helpers import ingest, rss, subscribe
from tests.web.conftest import csrf

NEWS = rss(
    ("Court jails man who cloned his boss's voice with a deepfake", "https://wire.example/1", "<p>AI tool.</p>"),
    ("Deepfake robocall of the mayor investigated", "https://wire.example/5", "<p>Voters misled.</p>"),
)


def test_desk_pages_refuse_anonymous_visitors(client: TestClient) -> None:
    for path in (
        "/editor/editions",
        "/editor/editions/2026-12-01",
        "/editor/deliveries",
        "/editor/deliveries/subscriber/1",
    ):
        answer = client.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == "/editor/login", path
    assert client.post("/editor/editions/2026-12-01/approve", data={"csrf": "x"}).status_code == 403


def test_an_editor_works_an_edition_and_reads_its_deliveries(
    editor_client: TestClient,
    engine: Engine,
    web_settings: Settings,
    ruleset: Ruleset,
) -> None:
    now = datetime.now(UTC)
    subscribe(engine, web_settings, "deep@example.org", ["deepfakes"], "daily", now - timedelta(days=1), ruleset)
    ingest(engine, ruleset, NEWS, now)
    today = edition_for("daily", now, "UTC").partition(":")[2]
    listing = editor_client.get("/editor/editions")
    assert listing.status_code == 200 and f'href="/editor/editions/{today}"' in listing.text
    page = editor_client.get(f"/editor/editions/{today}")
    assert "Deepfake robocall of the mayor investigated" in page.text and "planned" in page.text
    token = csrf(page.text)
    with session_scope(engine) as s:
        story = s.scalar(select(Story.id).where(Story.title.contains("cloned his boss")))
    assert story is not None
    answer = editor_client.post(f"/editor/editions/{today}/exclude", data={"csrf": token, "story": str(story)})
    assert answer.status_code == 303
    shown = editor_client.get(answer.headers["location"])
    assert f"Story {story} excluded." in shown.text and "Include again" in shown.text
    refused = editor_client.post(f"/editor/editions/{today}/lead", data={"csrf": token, "story": str(story)})
    assert "is excluded from edition" in editor_client.get(refused.headers["location"]).text
    note = editor_client.post(
        f"/editor/editions/{today}/note", data={"csrf": token, "body": "Hello *readers*", "topic": "deepfakes"}
    )
    assert "Note for deepfakes saved." in editor_client.get(note.headers["location"]).text
    bad = editor_client.post(f"/editor/editions/{today}/note", data={"csrf": token, "body": "x", "topic": "cats"})
    assert "unknown topic &#39;cats&#39;" in editor_client.get(bad.headers["location"]).text.lower()
    forged = editor_client.post(f"/editor/editions/{today}/approve", data={"csrf": "forged"})
    assert forged.status_code == 403
    approved = editor_client.post(f"/editor/editions/{today}/approve", data={"csrf": token})
    assert (
        "Approved: the edition goes out at the next send or retry tick."
        in editor_client.get(approved.headers["location"]).text
    )
    with session_scope(engine) as s:
        edition = edition_store.by_key(s, f"daily:{today}")
        assert edition is not None and edition.state == "approved"
        assert [d.action for d in edition_store.decisions(s, edition.id)] == ["exclude", "note", "approve"]
    page = editor_client.get(f"/editor/editions/{today}").text
    assert "alice</strong> exclude" in page and "alice</strong> approve" in page

    # The topic group preview applies the exclusion and the note, and says what it shows.
    preview = editor_client.get("/editor/preview", params={"topics": "deepfakes", "frequency": "daily"})
    assert "What readers of Deepfakes get in the daily edition of" in preview.text
    assert "<td>Deepfake robocall of the mayor investigated</td>" in preview.text
    assert "cloned his boss" not in preview.text
    assert "Hello readers" in preview.text  # the note, in the text part

    plan_edition(engine, web_settings, ruleset, now)
    from digest.digests.deliver import deliver_queued
    from digest.subscribers.links import make_signer

    assert deliver_queued(engine, web_settings, ruleset, make_signer(web_settings, engine)).sent == 1
    reader = editor_client.get("/editor/preview", params={"email": "deep@example.org"}).text
    assert "This reader already received the daily edition of" in reader and "This is their next digest" in reader

    deliveries = editor_client.get("/editor/deliveries")
    assert "deep@example.org" not in deliveries.text  # never a bulk list of addresses
    found = editor_client.get("/editor/deliveries", params={"q": "deep"})
    link = re.search(r'href="(/editor/deliveries/subscriber/\d+)"', found.text)
    assert link is not None
    history = editor_client.get(link.group(1)).text
    assert "Deliveries to deep@example.org" in history and f">{today}</a></td><td>sent</td>" in history
    assert "<li>Deepfake robocall of the mayor investigated</li>" in history and "cloned his boss" not in history


def test_edition_notices_cannot_be_crafted_in_the_address(editor_client: TestClient) -> None:
    today = edition_for("daily", datetime.now(UTC), "UTC").partition(":")[2]
    page = editor_client.get(f"/editor/editions/{today}?note=Your+account+is+locked:+call+us")
    assert page.status_code == 200 and "call us" not in page.text


def test_the_edition_page_counts_confirmed_readers_per_exact_topic_group(
    editor_client: TestClient, engine: Engine, web_settings: Settings, ruleset: Ruleset
) -> None:
    now = datetime.now(UTC)
    chosen = {
        "a@example.org": ["deepfakes"],
        "b@example.org": ["deepfakes"],
        "c@example.org": ["deepfakes", "ai-misuse"],
        "d@example.org": ["ai-misuse", "deepfakes"],  # the same group, chosen in another order
        "e@example.org": ["ai-misuse", "deepfakes"],
        "f@example.org": ["child-protection", "deepfakes", "ai-misuse"],
        "pending@example.org": ["deepfakes"],
        "gone@example.org": ["deepfakes"],
    }
    for email, topics in chosen.items():
        subscribe(engine, web_settings, email, topics, "daily", now - timedelta(days=1), ruleset)
    subscribe(engine, web_settings, "weekly@example.org", ["deepfakes"], "weekly", now - timedelta(days=1), ruleset)
    with session_scope(engine) as s:
        for email, status in (("pending@example.org", "pending"), ("gone@example.org", "unsubscribed")):
            person = subscribers.by_email(s, email)
            assert person is not None
            person.status = status
    today = edition_for("daily", now, "UTC").partition(":")[2]
    page = editor_client.get(f"/editor/editions/{today}").text
    table = page.split("<h2>Readers per topic group</h2>")[1].split("</table>")[0]
    rows = [(group, int(n)) for group, n in re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td>", table)]
    assert rows == [
        ("AI misuse + Deepfakes", 3),
        ("Deepfakes", 2),
        ("AI misuse + Child protection + Deepfakes", 1),
    ]

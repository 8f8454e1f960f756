"""The editor console over real HTTP requests: sign-in, every page, every form, anonymous refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from digest.config import Settings
from digest.db.engine import session_scope
from digest.editors import store as editors
from digest.feeds import store, story_store, topic_store
from digest.tagging.rules import Ruleset
from tests.conftest import ROOT
from tests.digests.helpers import ingest, subscribe
from tests.httpserver import FeedServer, Route

PASSWORD = "correct horse battery"
PAGES = [
    "/editor/",
    "/editor/feeds",
    "/editor/stories",
    "/editor/topics",
    "/editor/subscribers",
    "/editor/preview",
    "/editor/preview/html?email=a@example.org",
]
FORMS = ["/editor/feeds", "/editor/feeds/1/poll", "/editor/stories/1/topics", "/editor/topics", "/editor/logout"]


@pytest.fixture
def editor_client(client: TestClient, engine: Engine) -> TestClient:
    with session_scope(engine) as s:
        editors.set_editor(s, "alice", PASSWORD, datetime.now(UTC))
    signed_in = client.post("/editor/login", data={"username": "Alice", "password": PASSWORD})
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/editor/"
    cookie = signed_in.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/editor" in cookie
    return client


def csrf(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def test_every_editor_page_refuses_anonymous_visitors(client: TestClient) -> None:
    for path in PAGES:
        answer = client.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == "/editor/login", path
    for path in FORMS:
        assert client.post(path, data={"csrf": "x"}).status_code == 403, path
    assert "Editor sign-in" in client.get("/editor/login").text


def test_wrong_passwords_and_forged_sessions_are_refused(client: TestClient, engine: Engine) -> None:
    with session_scope(engine) as s:
        editors.set_editor(s, "alice", PASSWORD, datetime.now(UTC))
    wrong = client.post("/editor/login", data={"username": "alice", "password": "not it at all"})
    assert wrong.status_code == 401 and "Wrong name or password" in wrong.text and "set-cookie" not in wrong.headers
    unknown = client.post("/editor/login", data={"username": "mallory", "password": PASSWORD})
    assert unknown.status_code == 401 and unknown.text.replace("mallory", "alice") == wrong.text
    client.cookies.set("digest_editor", "forged.value.here", path="/editor")
    assert client.get("/editor/feeds").status_code == 303
    for _ in range(10):
        client.post("/editor/login", data={"username": "alice", "password": "guessing again"})
    assert client.post("/editor/login", data={"username": "alice", "password": PASSWORD}).status_code == 429


def test_a_new_password_ends_old_sessions(editor_client: TestClient, engine: Engine) -> None:
    assert editor_client.get("/editor/feeds").status_code == 200
    with session_scope(engine) as s:
        editors.set_editor(s, "alice", "another long password", datetime.now(UTC))
    assert editor_client.get("/editor/feeds").status_code == 303


def test_feeds_page_adds_pauses_and_polls(editor_client: TestClient, engine: Engine, feed_server: FeedServer) -> None:
    page = editor_client.get("/editor/feeds")
    assert page.status_code == 200 and "Health at a glance: 0 feeds" in page.text
    sample = (ROOT / "config" / "sample-feeds" / "cyberlaw-wire.xml").read_bytes()
    url = feed_server.add("/wire.xml", Route(sample, headers={"Content-Type": "application/rss+xml"}))
    added = editor_client.post("/editor/feeds", data={"csrf": csrf(page.text), "url": url}, follow_redirects=True)
    assert f"Added {url}" in added.text
    assert editor_client.post("/editor/feeds", data={"url": url}).status_code == 403  # no CSRF token
    bad = editor_client.post(
        "/editor/feeds", data={"csrf": csrf(page.text), "url": "javascript:x"}, follow_redirects=True
    )
    assert "is not a feed address" in bad.text
    with session_scope(engine) as s:
        feed_id = store.get_feed(s, url).id
    polled = editor_client.post(f"/editor/feeds/{feed_id}/poll", data={"csrf": csrf(page.text)}, follow_redirects=True)
    assert f"Polled {url}: ok (6 new, 0 updated)" in polled.text and "Cyber Law Wire" in polled.text
    paused = editor_client.post(f"/editor/feeds/{feed_id}/pause", data={"csrf": csrf(page.text)}, follow_redirects=True)
    assert "Paused" in paused.text and "status-paused" in paused.text
    resumed = editor_client.post(
        f"/editor/feeds/{feed_id}/resume", data={"csrf": csrf(page.text)}, follow_redirects=True
    )
    assert "Resumed" in resumed.text


def test_stories_show_topics_and_why_and_take_manual_changes(
    editor_client: TestClient, engine: Engine, ruleset: Ruleset
) -> None:
    ingest(engine, ruleset, (ROOT / "config" / "sample-feeds" / "policy-desk.xml").read_bytes(), datetime.now(UTC))
    page = editor_client.get("/editor/stories?topic=deepfakes")
    assert "Lawmakers pass bill criminalising sexually explicit deepfakes" in page.text
    assert "Age-verification rules" not in page.text  # filtered by topic
    assert "<strong>deepfakes</strong>" in page.text and "deepfakes" in page.text
    with session_scope(engine) as s:
        story = next(st for st in story_store.list_stories(s) if st.title.startswith("Age-verification"))
    changed = editor_client.post(
        f"/editor/stories/{story.id}/topics",
        data={"csrf": csrf(page.text), "changes": "+deepfakes -child-protection"},
        follow_redirects=True,
    )
    assert f"Topics of story {story.id} changed" in changed.text
    with session_scope(engine) as s:
        assert set(topic_store.topics_of(s, [story.id])[story.id]) == {"deepfakes"}
    bad = editor_client.post(
        f"/editor/stories/{story.id}/topics",
        data={"csrf": csrf(page.text), "changes": "+crypto"},
        follow_redirects=True,
    )
    assert "unknown topic" in bad.text


def test_topics_page_counts_and_tries_the_tagger(editor_client: TestClient) -> None:
    page = editor_client.get("/editor/topics")
    assert "Confirmed subscribers" in page.text and "Try the tagger" in page.text
    tried = editor_client.post(
        "/editor/topics",
        data={
            "csrf": csrf(page.text),
            "title": "Scammers clone CEO's voice",
            "summary": "A deepfake call fooled the bank.",
        },
    )
    assert tried.status_code == 200 and "<strong>deepfakes</strong>" in tried.text and "deepfake" in tried.text


def test_subscribers_page_searches_without_listing_everyone(
    editor_client: TestClient, engine: Engine, web_settings: Settings, ruleset: Ruleset
) -> None:
    for name in ("ann", "bob", "annabel"):
        subscribe(engine, web_settings, f"{name}@example.org", ["deepfakes"], "daily", datetime.now(UTC), ruleset)
    page = editor_client.get("/editor/subscribers")
    assert "confirmed 3" in page.text and "ann@example.org" not in page.text
    assert "ann@example.org" not in editor_client.get("/editor/subscribers?q=an").text  # too short to search
    found = editor_client.get("/editor/subscribers?q=ann")
    assert "ann@example.org" in found.text and "annabel@example.org" in found.text and "bob@" not in found.text


def test_preview_shows_headers_text_and_a_sandboxed_html_part(
    editor_client: TestClient, engine: Engine, web_settings: Settings, ruleset: Ruleset
) -> None:
    subscribe(
        engine, web_settings, "deep@example.org", ["deepfakes"], "daily", datetime.now(UTC) - timedelta(days=1), ruleset
    )
    ingest(engine, ruleset, (ROOT / "config" / "sample-feeds" / "policy-desk.xml").read_bytes(), datetime.now(UTC))
    page = editor_client.get("/editor/preview?email=deep@example.org")
    assert "List-Unsubscribe-Post" in page.text and "2 new stories on Deepfakes" in page.text
    assert "frame-src 'self'" in page.headers["content-security-policy"]
    assert '<iframe class="mail" src="/editor/preview/html?email=deep' in page.text
    frame = editor_client.get("/editor/preview/html?email=deep@example.org")
    assert "sandbox" in frame.headers["content-security-policy"] and frame.headers["x-frame-options"] == "SAMEORIGIN"
    assert "Nudify apps pulled" in frame.text
    choice = editor_client.get("/editor/preview?topics=child-protection&frequency=weekly")
    assert "2 new stories on Child protection" in choice.text
    missing = editor_client.get("/editor/preview?email=nobody@example.org")
    assert "no subscriber has the address nobody@example.org" in missing.text


def test_signing_out_ends_the_session(editor_client: TestClient) -> None:
    page = editor_client.get("/editor/feeds")
    out = editor_client.post("/editor/logout", data={"csrf": csrf(page.text)})
    assert out.status_code == 303 and out.headers["location"] == "/editor/login"
    assert editor_client.get("/editor/feeds").status_code == 303

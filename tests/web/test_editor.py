"""The editor console over real HTTP requests: sign-in, every page, every form, anonymous refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from digest.config import Settings
from digest.db.engine import session_scope
from digest.editors import store as editors
from digest.tagging.rules import Ruleset
from digest.web.app import create_app
from tests.conftest import ROOT
from tests.digests.helpers import ingest, subscribe
from tests.web.conftest import EDITOR_PASSWORD, csrf, notice

PASSWORD = EDITOR_PASSWORD
PAGES = [
    "/editor/",
    "/editor/feeds",
    "/editor/feeds/1/edit",
    "/editor/feeds/export",
    "/editor/stories",
    "/editor/topics",
    "/editor/subscribers",
    "/editor/subscribers/1",
    "/editor/subscribers/1/export",
    "/editor/account",
    "/editor/preview",
    "/editor/preview/html?email=a@example.org",
]
FORMS = [
    "/editor/feeds",
    "/editor/feeds/discover",
    "/editor/feeds/import",
    "/editor/feeds/1/edit",
    "/editor/feeds/1/delete",
    "/editor/feeds/1/poll",
    "/editor/stories/1/topics",
    "/editor/topics",
    "/editor/subscribers/import",
    "/editor/subscribers/1/resend",
    "/editor/subscribers/1/unsubscribe",
    "/editor/subscribers/1/erase",
    "/editor/account/password",
    "/editor/logout",
]


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


def test_a_new_password_ends_old_sessions(editor_client: TestClient, engine: Engine) -> None:
    assert editor_client.get("/editor/feeds").status_code == 200
    with session_scope(engine) as s:
        editors.set_editor(s, "alice", "another long password", datetime.now(UTC))
    assert editor_client.get("/editor/feeds").status_code == 303


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


def test_preview_shows_headers_text_and_a_sandboxed_html_part(
    editor_client: TestClient, engine: Engine, web_settings: Settings, ruleset: Ruleset
) -> None:
    subscribe(
        engine, web_settings, "deep@example.org", ["deepfakes"], "daily", datetime.now(UTC) - timedelta(days=1), ruleset
    )
    ingest(engine, ruleset, (ROOT / "config" / "sample-feeds" / "policy-desk.xml").read_bytes(), datetime.now(UTC))
    page = editor_client.get("/editor/preview?email=deep@example.org")
    assert "List-Unsubscribe-Post" in page.text
    assert "<td>Nudify apps pulled from app stores after... + 1 more on Deepfakes</td>" in page.text
    assert "frame-src 'self'" in page.headers["content-security-policy"]
    assert '<iframe class="mail" src="/editor/preview/html?email=deep' in page.text
    frame = editor_client.get("/editor/preview/html?email=deep@example.org")
    assert "sandbox" in frame.headers["content-security-policy"] and frame.headers["x-frame-options"] == "SAMEORIGIN"
    assert "Nudify apps pulled" in frame.text
    choice = editor_client.get("/editor/preview?topics=child-protection&frequency=weekly")
    assert "<td>Age-verification rules for adult... + 1 more on Child protection</td>" in choice.text
    missing = editor_client.get("/editor/preview?email=nobody@example.org")
    assert "no subscriber has the address nobody@example.org" in missing.text


def test_signing_out_ends_the_session(editor_client: TestClient) -> None:
    page = editor_client.get("/editor/feeds")
    out = editor_client.post("/editor/logout", data={"csrf": csrf(page.text)})
    assert out.status_code == 303 and out.headers["location"] == "/editor/login"
    assert editor_client.get("/editor/feeds").status_code == 303


def test_sign_in_throttling_counts_failures_per_name_and_client(
    client: TestClient, web_settings: Settings, engine: Engine, ruleset: Ruleset
) -> None:
    with session_scope(engine) as s:
        editors.set_editor(s, "alice", PASSWORD, datetime.now(UTC))
    for _ in range(10):  # successful sign-ins are never counted
        assert client.post("/editor/login", data={"username": "alice", "password": PASSWORD}).status_code == 303
    for _ in range(5):
        assert client.post("/editor/login", data={"username": "alice", "password": "a guess"}).status_code == 401
    refused = client.post("/editor/login", data={"username": "alice", "password": PASSWORD})
    assert refused.status_code == 429
    assert re.search(r"Try again in 1[56] minutes \(after \d\d:\d\d UTC\)", refused.text), refused.text
    # The stranger guessing from their machine has not locked alice out of hers, nor bob out of his.
    with TestClient(create_app(web_settings, engine, ruleset), client=("192.0.2.7", 4000)) as elsewhere:
        ok = elsewhere.post("/editor/login", data={"username": "alice", "password": PASSWORD}, follow_redirects=False)
        assert ok.status_code == 303
    assert client.post("/editor/login", data={"username": "bob", "password": "a guess"}).status_code == 401


def test_notices_cannot_be_crafted_in_a_link(editor_client: TestClient) -> None:
    page = editor_client.get("/editor/feeds?note=Your+account+is+locked,+call+us")
    assert "account is locked" not in page.text and notice(page.text) == ""
    editor_client.cookies.set("digest_editor_notice", "forged.notice.value", path="/editor")
    assert notice(editor_client.get("/editor/feeds").text) == ""


def test_a_malformed_address_is_a_page_not_found(editor_client: TestClient) -> None:
    for path in ("/editor/subscribers/abc", "/editor/feeds/x/edit"):
        answer = editor_client.get(path)
        assert answer.status_code == 404 and "Page not found" in answer.text, path

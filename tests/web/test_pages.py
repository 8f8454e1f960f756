"""Every page over real HTTP requests (the app's test client) on a real database."""

from __future__ import annotations

import json
import time
from pathlib import Path

from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import Engine

from digest.config import PrivacySettings, Settings
from digest.db.engine import session_scope
from digest.subscribers import store
from digest.subscribers.privacy import is_suppressed
from digest.tagging.rules import Ruleset
from digest.web.app import create_app
from tests.mailbox import html_of, link, messages, text_of

FORM = {"email": "Reader@Example.org", "topics": ["deepfakes", "ai-misuse"], "frequency": "daily"}


def sign_up(client: TestClient, outbox: Path, **form: object) -> str:
    """Sign up and confirm; returns the preferences path from the confirmation page."""
    answer = client.post("/subscribe", data={**FORM, **form})
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    confirmed = client.get(link(messages(outbox)[-1], "confirm"))
    assert confirmed.status_code == 200 and "You are subscribed" in confirmed.text
    return "/preferences/" + confirmed.text.split('href="http://testserver/preferences/')[1].split('"')[0]


def test_the_form_is_accessible_and_carries_the_promise(client: TestClient, ruleset: Ruleset) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert '<label for="email">Email address</label>' in page.text
    for topic in ruleset.topics:
        assert f'<label for="topic-{topic.slug}">{topic.name}</label>' in page.text
    assert "Your email address will only be used to send you the information you have requested" in page.text
    assert 'href="http://testserver/privacy"' in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert page.headers["referrer-policy"] == "no-referrer"
    assert client.get("/static/site.css").status_code == 200
    privacy = client.get("/privacy")
    assert "No network address or browser information." in privacy.text


def test_the_answer_is_the_same_for_new_pending_and_confirmed_addresses(client: TestClient, outbox: Path) -> None:
    first = client.post("/subscribe", data=FORM)
    again = client.post("/subscribe", data=FORM)  # pending, within the resend window
    assert first.text == again.text and first.status_code == again.status_code == 200
    (confirmation,) = messages(outbox)
    assert confirmation["To"] == "reader@example.org"
    assert "Confirm your subscription" in confirmation["Subject"]
    assert "AI misuse, Deepfakes" in text_of(confirmation) and "AI misuse, Deepfakes" in html_of(confirmation)
    client.get(link(confirmation, "confirm"))
    other = client.post("/subscribe", data={**FORM, "email": "someone.else@example.org"})
    assert other.text == first.text


def test_a_confirmed_address_gets_a_manage_your_topics_mail(client: TestClient, engine: Engine, outbox: Path) -> None:
    sign_up(client, outbox)
    with session_scope(engine) as s:
        found = store.by_email(s, "reader@example.org")
        assert found is not None
        found.last_mail_request_at = None  # outside the resend window
    client.post("/subscribe", data=FORM)
    reminder = messages(outbox)[-1]
    assert "already subscribed" in reminder["Subject"]
    assert link(reminder, "preferences") and link(reminder, "unsubscribe")


def test_bad_input_is_explained_and_kept(client: TestClient, outbox: Path) -> None:
    bad = client.post("/subscribe", data={**FORM, "email": "not-an-address"})
    assert bad.status_code == 400 and "is not a valid email address" in bad.text
    assert 'value="not-an-address"' in bad.text
    assert 'value="deepfakes" aria-describedby="topic-deepfakes-about" checked' in bad.text
    assert 'value="child-protection" aria-describedby="topic-child-protection-about">' in bad.text
    none = client.post("/subscribe", data={"email": "a@example.org", "frequency": "weekly"})
    assert none.status_code == 400 and "choose at least one topic" in none.text
    assert messages(outbox) == []


def test_the_honeypot_looks_like_success_but_sends_nothing(client: TestClient, outbox: Path) -> None:
    trapped = client.post("/subscribe", data={**FORM, "website": "http://spam.example"})
    assert trapped.status_code == 200 and "Check your inbox" in trapped.text
    assert messages(outbox) == []


def test_preferences_change_topics_with_csrf_protection(client: TestClient, outbox: Path, engine: Engine) -> None:
    page_path = sign_up(client, outbox)
    page = client.get(page_path)
    assert page.status_code == 200 and "reader@example.org" in page.text
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    saved = client.post(page_path, data={"csrf": csrf, "topics": ["child-protection"], "frequency": "weekly"})
    assert saved.status_code == 200 and "Your choices are saved" in saved.text
    with session_scope(engine) as s:
        found = store.by_email(s, "reader@example.org")
        assert found is not None and (found.topic_slugs, found.frequency) == (["child-protection"], "weekly")
    missing = client.post(page_path, data={"topics": ["deepfakes"], "frequency": "weekly"})
    assert missing.status_code == 403
    forged = client.post(page_path, data={"csrf": csrf + "x", "topics": ["deepfakes"], "frequency": "weekly"})
    assert forged.status_code == 403
    cross_site = client.post(
        page_path,
        data={"csrf": csrf, "topics": ["deepfakes"], "frequency": "weekly"},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403
    empty = client.post(page_path, data={"csrf": csrf, "frequency": "weekly"})
    assert empty.status_code == 400 and "choose at least one topic" in empty.text


def test_a_new_policy_is_shown_and_accepted(
    web_settings: Settings, engine: Engine, ruleset: Ruleset, outbox: Path
) -> None:
    with TestClient(create_app(web_settings, engine, ruleset)) as old:
        page_path = sign_up(old, outbox)
    newer = web_settings.model_copy(update={"privacy": PrivacySettings(policy_version="2027-01-01")})
    with TestClient(create_app(newer, engine, ruleset)) as client:
        page = client.get(page_path)
        assert "Our privacy policy has changed" in page.text and "2027-01-01" in page.text
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        accepted = client.post(page_path + "/accept-policy", data={"csrf": csrf})
        assert accepted.status_code == 200 and "Our privacy policy has changed" not in accepted.text
    with session_scope(engine) as s:
        found = store.by_email(s, "reader@example.org")
        assert found is not None and found.policy_version == "2027-01-01"
        assert store.consents(s, found)[-1].action == "policy-accepted"


def test_export_and_erase_from_the_preferences_page(client: TestClient, outbox: Path, engine: Engine) -> None:
    page_path = sign_up(client, outbox)
    exported = client.get(page_path + "/export")
    assert exported.headers["content-disposition"].startswith("attachment")
    data = json.loads(exported.text)
    assert data["email"] == "reader@example.org" and data["status"] == "confirmed"
    assert [e["action"] for e in data["consent_events"]] == ["requested", "confirmed"]
    form = client.get(page_path + "/erase")
    csrf = form.text.split('name="csrf" value="')[1].split('"')[0]
    erased = client.post(page_path + "/erase", data={"csrf": csrf})
    assert erased.status_code == 200 and "Your data is erased" in erased.text
    with session_scope(engine) as s:
        assert store.by_email(s, "reader@example.org") is None
        assert is_suppressed(s, "reader@example.org")
    assert client.get(page_path).status_code == 400  # the link died with the data
    assert client.post(link(messages(outbox)[0], "confirm").replace("/confirm/", "/unsubscribe/")).status_code == 400


def test_rfc_8058_one_click_unsubscribe(client: TestClient, outbox: Path, engine: Engine) -> None:
    page_path = sign_up(client, outbox)
    unsubscribe_path = client.get(page_path).text.split('<form method="post" action="/unsubscribe/')[1].split('"')[0]
    path = "/unsubscribe/" + unsubscribe_path
    shown = client.get(path)
    assert shown.status_code == 200 and "Press the button" in shown.text
    with session_scope(engine) as s:
        assert store.by_email(s, "reader@example.org").status == "confirmed"  # type: ignore[union-attr]
    done = client.post(
        path, content=b"List-Unsubscribe=One-Click", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    assert "set-cookie" not in done.headers and "location" not in done.headers
    with session_scope(engine) as s:
        found = store.by_email(s, "reader@example.org")
        assert found is not None and found.status == "unsubscribed"
        assert is_suppressed(s, "reader@example.org")
    assert client.post(path, content=b"List-Unsubscribe=One-Click").status_code == 200  # twice is fine


def test_bad_links_get_a_clear_4xx_page_and_reveal_nothing(
    client: TestClient, outbox: Path, web_settings: Settings
) -> None:
    client.post("/subscribe", data=FORM)
    confirm = link(messages(outbox)[0], "confirm")
    token = confirm.split("/confirm/")[1]
    for path in [
        "/confirm/" + token[:-3] + "abc",
        "/confirm/garbage",
        "/preferences/" + token,
        "/unsubscribe/" + token,
        "/preferences/%00",
        "/confirm/" + "A" * 600,
    ]:
        answer = client.get(path)
        assert answer.status_code == 400, path
        assert "This link is not valid" in answer.text and "Traceback" not in answer.text
    assert client.post("/unsubscribe/" + token).status_code == 400

    class LastMonth(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 30 * 86_400

    link_key = URLSafeTimedSerializer([web_settings.secret_key], salt="digest.confirm").loads(token)
    old = URLSafeTimedSerializer([web_settings.secret_key], salt="digest.confirm", signer=LastMonth).dumps(link_key)
    expired = client.get(f"/confirm/{old}")
    assert expired.status_code == 410 and "This link has expired" in expired.text
    assert client.get("/no/such/page").status_code == 404


def test_links_survive_a_key_rotation(web_settings: Settings, engine: Engine, ruleset: Ruleset, outbox: Path) -> None:
    with TestClient(create_app(web_settings, engine, ruleset)) as old:
        page_path = sign_up(old, outbox)
    assert web_settings.secret_key is not None
    rotated = web_settings.model_copy(
        update={"secret_key": "brand-new-key", "previous_secret_keys": [web_settings.secret_key]}
    )
    with TestClient(create_app(rotated, engine, ruleset)) as client:
        assert client.get(page_path).status_code == 200
    retired = web_settings.model_copy(update={"secret_key": "brand-new-key"})
    with TestClient(create_app(retired, engine, ruleset)) as client:
        assert client.get(page_path).status_code == 400

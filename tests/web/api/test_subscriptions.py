"""POST /api/subscriptions: the same answer whatever the address's state, the mail that differs, the
consent log naming the token, and bad bodies explained field by field."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from digest.db.engine import session_scope
from digest.subscribers import signup, store
from digest.subscribers.privacy import erase_subscriber, export_subscriber, is_suppressed
from tests.mailbox import messages
from tests.web.api.conftest import bearer

CONSENT = "I agree that Example Outlet sends me the digest of the topics I chose; see the privacy policy."


def body(email: str, **changes: Any) -> dict[str, Any]:
    return {"email": email, "topics": ["deepfakes", "ai-misuse"], "consent_text": CONSENT, **changes}


def make_states(engine: Engine) -> None:
    """pending@, confirmed@, unsubscribed@ and erased@ (example.org) in those states; new@ is nobody."""
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        for name in ("pending", "confirmed", "unsubscribed", "erased"):
            person = store.create(session, f"{name}@example.org", "weekly", now)
            store.set_topics(session, person, ["deepfakes"])
            if name in ("confirmed", "unsubscribed"):
                person.status = "confirmed"
            if name == "unsubscribed":
                signup.unsubscribe(session, person, "one-click", now)
            if name == "erased":
                erase_subscriber(session, person, now)


def test_the_answer_is_the_same_for_new_pending_confirmed_unsubscribed_and_erased(
    client: TestClient, engine: Engine, tokens: dict[str, str], outbox: Path
) -> None:
    make_states(engine)
    answers = {}
    for name in ("new", "pending", "confirmed", "unsubscribed", "erased"):
        answer = client.post(
            "/api/subscriptions", json=body(f"{name}@example.org"), headers=bearer(tokens["subscribers"])
        )
        answers[name] = (answer.status_code, answer.json(), sorted(answer.headers.keys()))
        assert answer.status_code == 202
    assert len({repr(a) for a in answers.values()}) == 1, answers
    # Only the mail to the address itself differs: a confirmed reader is reminded, not re-confirmed.
    subjects = {str(m["To"]): str(m["Subject"]) for m in messages(outbox)}
    assert set(subjects) == {f"{n}@example.org" for n in answers}
    assert "already subscribed" in subjects["confirmed@example.org"]
    for name in ("new", "pending", "unsubscribed", "erased"):
        assert "Confirm your subscription" in subjects[f"{name}@example.org"]
    with session_scope(engine) as session:
        confirmed = store.by_email(session, "confirmed@example.org")
        assert confirmed is not None and confirmed.topic_slugs == ["deepfakes"]  # never changed by a sign-up


def test_the_consent_log_says_it_came_through_the_api_and_which_token(
    client: TestClient, engine: Engine, tokens: dict[str, str]
) -> None:
    answer = client.post(
        "/api/subscriptions",
        json=body("Reader@Example.org", frequency="daily", consent_version="2026-11-01"),
        headers=bearer(tokens["subscribers"]),
    )
    assert answer.status_code == 202
    with session_scope(engine) as session:
        person = store.by_email(session, "reader@example.org")
        assert person is not None and (person.status, person.frequency) == ("pending", "daily")
        [event] = export_subscriber(session, person)["consent_events"]
    assert (event["action"], event["method"], event["policy_version"]) == ("requested", "api", "2026-11-01")
    assert "through the API by token site-subscribers" in event["detail"]
    assert CONSENT in event["detail"]


@pytest.mark.parametrize(
    ("sent", "where", "said"),
    [
        ({"topics": ["deepfakes"], "consent_text": CONSENT}, "body.email", "Field required"),
        (body("reader@example.org", topics=[]), "body.topics", "at least 1 item"),
        (body("reader@example.org", topics=["x" * 65]), "body.topics.0", "at most 64 characters"),
        (body("reader@example.org", consent_text=""), "body.consent_text", "at least 1 character"),
        (body("reader@example.org", consent_text="x" * 2001), "body.consent_text", "at most 2000 characters"),
        (body("reader@example.org", frequency="hourly"), "body.frequency", "'daily' or 'weekly'"),
        (body("reader@example.org", website="spam"), "body.website", "Extra inputs are not permitted"),
        (body("x" * 255 + "@example.org"), "body.email", "at most 254 characters"),
    ],
    ids=["no email", "no topics", "long topic", "no consent", "long consent", "frequency", "extra field", "long email"],
)
def test_bad_bodies_name_the_field_and_what_is_wrong(
    client: TestClient, tokens: dict[str, str], outbox: Path, sent: dict[str, Any], where: str, said: str
) -> None:
    answer = client.post("/api/subscriptions", json=sent, headers=bearer(tokens["subscribers"]))
    assert answer.status_code == 422
    error = answer.json()
    assert error["error"].startswith(f"{where}: ") and said in error["error"]
    assert {"where": where, "problem": error["problems"][0]["problem"]} == error["problems"][0]
    assert messages(outbox) == []


@pytest.mark.parametrize(
    ("sent", "said"),
    [
        (body("not-an-address"), "is not a valid email address"),
        (body("reader@example.org", topics=["crypto"]), "unknown topic crypto; the topics are"),
        (body("reader@example.org", consent_version="2020-01-01"), "is not the current privacy policy (2026-11-01)"),
    ],
    ids=["address", "topic", "policy"],
)
def test_what_the_sign_up_rules_refuse_is_said_in_words(
    client: TestClient, tokens: dict[str, str], engine: Engine, sent: dict[str, Any], said: str
) -> None:
    answer = client.post("/api/subscriptions", json=sent, headers=bearer(tokens["subscribers"]))
    assert answer.status_code == 422 and said in answer.json()["error"]
    with session_scope(engine) as session:
        assert store.count_by_status(session) == {}


def test_a_body_that_is_not_json_is_refused_in_json(client: TestClient, tokens: dict[str, str]) -> None:
    answer = client.post(
        "/api/subscriptions",
        content=b"email=reader@example.org",
        headers={**bearer(tokens["subscribers"]), "Content-Type": "application/json"},
    )
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/json"
    assert "JSON" in answer.json()["error"]


def test_an_erased_address_signing_up_again_is_still_suppressed_until_it_confirms(
    client: TestClient, engine: Engine, tokens: dict[str, str]
) -> None:
    make_states(engine)
    client.post("/api/subscriptions", json=body("erased@example.org"), headers=bearer(tokens["subscribers"]))
    with session_scope(engine) as session:
        assert is_suppressed(session, "erased@example.org")

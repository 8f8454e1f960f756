"""Admin calls on one person: unsubscribe, export, erase, each recorded as done by the token."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from digest.db.engine import session_scope
from digest.subscribers import store
from digest.subscribers.privacy import export_subscriber, is_suppressed
from tests.web.api.conftest import bearer


@pytest.fixture
def reader(engine: Engine) -> str:
    with session_scope(engine) as session:
        person = store.create(session, "reader@example.org", "weekly", datetime.now(UTC))
        person.status = "confirmed"
        store.set_topics(session, person, ["deepfakes"])
    return "reader@example.org"


def test_unsubscribe_stops_mail_and_names_the_token(
    client: TestClient, engine: Engine, tokens: dict[str, str], reader: str
) -> None:
    answer = client.post(f"/api/subscribers/{reader.upper()}/unsubscribe", headers=bearer(tokens["admin"]))
    assert answer.status_code == 200 and answer.json() == {"email": reader, "status": "unsubscribed"}
    with session_scope(engine) as session:
        person = store.by_email(session, reader)
        assert person is not None and person.status == "unsubscribed"
        last = export_subscriber(session, person)["consent_events"][-1]
        assert is_suppressed(session, reader)
    assert (last["action"], last["method"], last["detail"]) == (
        "unsubscribed",
        "api",
        "through the API by token site-admin",
    )


def test_export_is_everything_stored_and_is_itself_recorded(
    client: TestClient, tokens: dict[str, str], reader: str
) -> None:
    answer = client.get(f"/api/subscribers/{reader}/export", headers=bearer(tokens["admin"]))
    assert answer.status_code == 200
    data = answer.json()
    assert (data["email"], data["status"], data["topics"]) == (reader, "confirmed", ["deepfakes"])
    assert data["consent_events"][-1] | {"at": None} == {
        "action": "exported",
        "method": "api",
        "policy_version": None,
        "detail": "through the API by token site-admin",
        "at": None,
    }


def test_erase_leaves_only_the_hash_and_logs_the_token_not_the_address(
    client: TestClient, engine: Engine, tokens: dict[str, str], reader: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="digest.web.api.people"):
        answer = client.delete(f"/api/subscribers/{reader}", headers=bearer(tokens["admin"]))
    assert answer.status_code == 200 and answer.json() == {"email": reader, "status": "erased"}
    with session_scope(engine) as session:
        assert store.by_email(session, reader) is None
        assert is_suppressed(session, reader)
    assert "a subscriber was erased through the API by token site-admin" in caplog.messages
    assert all("reader" not in message for message in caplog.messages)
    again = client.delete(f"/api/subscribers/{reader}", headers=bearer(tokens["admin"]))
    assert again.status_code == 404 and again.json() == {"error": "no subscriber has this address"}


@pytest.mark.parametrize("method", ["POST", "GET", "DELETE"])
def test_unknown_and_invalid_addresses(client: TestClient, tokens: dict[str, str], method: str) -> None:
    suffix = {"POST": "/unsubscribe", "GET": "/export", "DELETE": ""}[method]
    nobody = client.request(method, f"/api/subscribers/nobody@example.org{suffix}", headers=bearer(tokens["admin"]))
    assert nobody.status_code == 404 and nobody.json()["error"] == "no subscriber has this address"
    invalid = client.request(method, f"/api/subscribers/not-an-address{suffix}", headers=bearer(tokens["admin"]))
    assert invalid.status_code == 422 and "is not a valid email address" in invalid.json()["error"]

"""Every API endpoint with good, missing, wrong, revoked and under-scoped tokens; the rate limit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from digest.api_tokens.access import SCOPES
from digest.config import ApiSettings, Settings
from digest.tagging.rules import Ruleset
from digest.web.api.limits import RateLimiter
from digest.web.app import create_app
from tests.web.api.conftest import bearer

SIGNUP = {"email": "reader@example.org", "topics": ["deepfakes"], "consent_text": "I agree to the privacy terms."}
# (method, path, JSON body, the scope it needs)
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, str]] = [
    ("GET", "/api/topics", None, "read"),
    ("GET", "/api/stories", None, "read"),
    ("GET", "/api/feeds", None, "read"),
    ("GET", "/api/editions/daily:2026-12-01", None, "read"),
    ("POST", "/api/subscriptions", SIGNUP, "subscribers"),
    ("POST", "/api/subscribers/reader@example.org/unsubscribe", None, "admin"),
    ("GET", "/api/subscribers/reader@example.org/export", None, "admin"),
    ("DELETE", "/api/subscribers/reader@example.org", None, "admin"),
]
IDS = [f"{method} {path}" for method, path, _body, _scope in ENDPOINTS]


def call(client: TestClient, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str]) -> Any:
    return client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path", "body", "scope"), ENDPOINTS, ids=IDS)
def test_no_token_or_a_wrong_or_revoked_one_is_401(
    client: TestClient, tokens: dict[str, str], method: str, path: str, body: dict[str, Any] | None, scope: str
) -> None:
    for headers, said in [
        ({}, "missing token"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "missing token"),
        (bearer("dgt_" + "x" * 43), "not valid"),
        (bearer(tokens["admin"] + "x"), "not valid"),
        (bearer(tokens["revoked"]), "not valid"),
    ]:
        answer = call(client, method, path, body, headers)
        assert answer.status_code == 401, (headers, answer.text)
        assert said in answer.json()["error"]
        assert answer.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path", "body", "scope"), ENDPOINTS, ids=IDS)
def test_each_scope_does_what_it_and_every_lower_scope_allow(
    client: TestClient, tokens: dict[str, str], method: str, path: str, body: dict[str, Any] | None, scope: str
) -> None:
    for held in SCOPES:
        answer = call(client, method, path, body, bearer(tokens[held]))
        if SCOPES.index(held) < SCOPES.index(scope):
            assert answer.status_code == 403, answer.text
            assert answer.json()["error"] == (
                f"the token 'site-{held}' has the scope '{held}'; this call needs '{scope}' or higher"
            )
        else:
            # Allowed: the answer is the endpoint's own (200, 202, or 404 for nobody/no edition).
            assert answer.status_code in (200, 202, 404), answer.text
            if answer.status_code == 404:
                assert "token" not in answer.json()["error"]


@pytest.fixture
def limited(web_settings: Settings, engine: Engine, ruleset: Ruleset) -> Iterator[TestClient]:
    settings = web_settings.model_copy(update={"api": ApiSettings(rate_limit_per_minute=3)})
    with TestClient(create_app(settings, engine, ruleset)) as client:
        yield client


def test_calls_are_limited_per_token(limited: TestClient, tokens: dict[str, str]) -> None:
    for _ in range(3):
        assert limited.get("/api/topics", headers=bearer(tokens["read"])).status_code == 200
    over = limited.get("/api/topics", headers=bearer(tokens["read"]))
    assert over.status_code == 429
    assert 1 <= int(over.headers["retry-after"]) <= 60
    assert "at most 3 a minute" in over.json()["error"]
    # Another token has its own allowance; a revoked one is refused before it is counted.
    assert limited.get("/api/topics", headers=bearer(tokens["admin"])).status_code == 200
    assert limited.get("/api/topics", headers=bearer(tokens["revoked"])).status_code == 401


def test_a_window_later_the_token_may_call_again() -> None:
    now = [1000.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert limiter.retry_after("site") is None and limiter.retry_after("site") is None
    now[0] += 45
    assert limiter.retry_after("site") == 15
    now[0] += 15
    assert limiter.retry_after("site") is None

"""CORS: off unless api.cors_origins names the outlet's site; then only that origin may read answers."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from digest.config import ApiSettings, Settings
from digest.tagging.rules import Ruleset
from digest.web.app import create_app
from tests.web.api.conftest import bearer

PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}


def test_no_origin_may_call_from_a_browser_by_default(client: TestClient, tokens: dict[str, str]) -> None:
    answer = client.get("/api/topics", headers={**bearer(tokens["read"]), "Origin": "https://www.outlet.example"})
    assert answer.status_code == 200 and "access-control-allow-origin" not in answer.headers
    preflight = client.options("/api/subscriptions", headers={"Origin": "https://www.outlet.example", **PREFLIGHT})
    assert "access-control-allow-origin" not in preflight.headers


def test_the_configured_origin_may_and_others_may_not(
    web_settings: Settings, engine: Engine, ruleset: Ruleset, tokens: dict[str, str]
) -> None:
    settings = web_settings.model_copy(update={"api": ApiSettings(cors_origins=["https://www.outlet.example"])})
    client = TestClient(create_app(settings, engine, ruleset))
    allowed = client.options("/api/subscriptions", headers={"Origin": "https://www.outlet.example", **PREFLIGHT})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://www.outlet.example"
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    answer = client.get("/api/topics", headers={**bearer(tokens["read"]), "Origin": "https://www.outlet.example"})
    assert answer.headers["access-control-allow-origin"] == "https://www.outlet.example"
    other = client.options("/api/subscriptions", headers={"Origin": "https://evil.example", **PREFLIGHT})
    assert other.status_code == 400 and "access-control-allow-origin" not in other.headers


def test_an_address_the_api_mount_cannot_take_is_still_answered_in_json(
    client: TestClient, tokens: dict[str, str]
) -> None:
    answer = client.get("/api/subscribers/a%0Ab@example.org/export", headers=bearer(tokens["admin"]))
    assert answer.status_code == 404 and answer.json() == {"error": "no such API endpoint: see /api/docs"}

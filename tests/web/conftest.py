"""The web app against a real database, with a file outbox to read the mail it sends."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from digest.config import FeedSettings, Settings
from digest.db.engine import session_scope
from digest.editors import store as editors
from digest.tagging.rules import Ruleset
from digest.web.app import create_app


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


@pytest.fixture
def web_settings(database_url: str, outbox: Path) -> Settings:
    return Settings(
        database_url=database_url,
        mail_url=f"file://{outbox}",
        secret_key="test-signing-key",
        base_url="http://testserver",
        feeds=FeedSettings(allow_private_networks=True),  # the tests' feed servers are on loopback
    )


@pytest.fixture
def client(web_settings: Settings, engine: Engine, ruleset: Ruleset) -> Iterator[TestClient]:
    with TestClient(create_app(web_settings, engine, ruleset), follow_redirects=False) as test_client:
        yield test_client


EDITOR_PASSWORD = "correct horse battery"


@pytest.fixture
def editor_client(client: TestClient, engine: Engine) -> TestClient:
    """The test client signed in as the editor alice."""
    with session_scope(engine) as s:
        editors.set_editor(s, "alice", EDITOR_PASSWORD, datetime.now(UTC))
    signed_in = client.post("/editor/login", data={"username": "Alice", "password": EDITOR_PASSWORD})
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/editor/"
    cookie = signed_in.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/editor" in cookie
    return client


def csrf(page: str) -> str:
    """The CSRF token of the first form on an editor page."""
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def notice(page: str) -> str:
    """The notice an editor page shows, as plain text ("" when there is none)."""
    match = re.search(r'<div class="notice notice-(\w+)"[^>]*>(.*?)</div>', page, re.S)
    if match is None:
        return ""
    text = re.sub(r"<[^>]+>", " ", re.sub(r'<span class="notice-mark".*?</span>', "", match.group(2)))
    return f"{match.group(1)}: " + " ".join(html.unescape(text).split())

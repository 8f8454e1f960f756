"""The web app against a real database, with a file outbox to read the mail it sends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from digest.config import FeedSettings, Settings
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

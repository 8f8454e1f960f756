"""/healthz answers while the process lives; /readyz only when it can do its work, else 503 and why."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from digest.config import Settings
from digest.db.engine import make_engine
from digest.tagging.rules import Ruleset
from digest.web.app import create_app


def test_alive_and_ready(client: TestClient) -> None:
    alive = client.get("/healthz")
    assert (alive.status_code, alive.json()) == (200, {"status": "ok"})
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    assert ready.headers["cache-control"] == "no-store"


def test_a_database_without_the_schema_is_not_ready(web_settings: Settings, ruleset: Ruleset, tmp_path: Path) -> None:
    empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    app = create_app(web_settings, empty, ruleset)
    answer = TestClient(app).get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["status"] == "not ready"
    assert "has not been created yet: run 'digest db upgrade' first" in answer.json()["reason"]
    assert TestClient(app).get("/healthz").status_code == 200
    empty.dispose()


def test_mail_that_cannot_be_written_is_not_ready(
    web_settings: Settings, engine: Engine, ruleset: Ruleset, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("")
    settings = web_settings.model_copy(update={"mail_url": f"file://{tmp_path}/a-file/outbox"})
    answer = TestClient(create_app(settings, engine, ruleset)).get("/readyz")
    assert answer.status_code == 503 and "mail outbox" in answer.json()["reason"]

"""The API on a real uvicorn server on loopback (``digest serve``): a valid OpenAPI document, docs
that load without a CDN, no server error on generated requests, and an access log without tokens
or addresses."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate

from digest.api_tokens.access import issue_token
from digest.db.engine import make_engine, session_scope
from digest.subscribers import store
from tests.web.test_access_log import Server, start

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture
def database(tmp_path: Path, sqlite_template: Path) -> tuple[str, str]:
    """A migrated SQLite database with one confirmed reader, and an admin token."""
    path = tmp_path / "digest.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    with session_scope(engine) as session:
        reader = store.create(session, "reader@example.org", "weekly", datetime.now(UTC))
        reader.status = "confirmed"
        token = issue_token(session, "outlet-site", "admin", datetime.now(UTC))
    engine.dispose()
    return url, token


def serve(url: str, tmp_path: Path, **env: str) -> Server:
    return start(url, tmp_path, DIGEST_MAIL_URL=f"file://{tmp_path / 'outbox'}", **env)


@pytest.fixture
def server(database: tuple[str, str], tmp_path: Path) -> Iterator[Server]:
    running = serve(database[0], tmp_path, DIGEST_API__RATE_LIMIT_PER_MINUTE="100000")
    yield running
    if running.process.poll() is None:
        running.log()


def test_the_openapi_document_is_valid_and_the_docs_load_from_here(server: Server) -> None:
    with httpx.Client(base_url=server.base, timeout=30) as client:
        document = client.get("/api/openapi.json").json()
        validate(document)
        assert set(document["paths"]) == {
            "/topics",
            "/stories",
            "/feeds",
            "/editions/{edition}",
            "/subscriptions",
            "/subscribers/{email}/unsubscribe",
            "/subscribers/{email}/export",
            "/subscribers/{email}",
        }
        assert document["servers"] == [{"url": "/api"}]
        assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
        docs = client.get("/api/docs")
        assert docs.status_code == 200 and "/api/docs-static/swagger-ui-bundle.js" in docs.text
        assert "cdn" not in docs.text
        assert "script-src 'self'" in docs.headers["content-security-policy"]
        assert client.get("/api/docs-static/swagger-ui-bundle.js").status_code == 200


def test_generated_requests_never_get_a_server_error(server: Server, database: tuple[str, str], tmp_path: Path) -> None:
    # Every check but "schema-valid data is accepted": an unknown topic or an address that is not
    # one is valid to the schema and rightly refused.
    done = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            f"{server.base}/api/openapi.json",
            "--header",
            f"Authorization: Bearer {database[1]}",
            "--max-examples",
            "10",
            "--seed",
            "1",
            "--phases",
            "examples,coverage,fuzzing",
            "--exclude-checks",
            "positive_data_acceptance",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,  # its cache of found crashes stays out of the repository
    )
    assert done.returncode == 0, done.stdout[-6000:]
    assert "passed" in done.stdout
    log = server.log()
    assert "Traceback" not in log and '" 500' not in log


def test_the_access_log_has_no_tokens_or_addresses_and_json_lines_name_their_fields(
    database: tuple[str, str], tmp_path: Path
) -> None:
    url, token = database
    running = serve(url, tmp_path, DIGEST_LOGGING__FORMAT="json")
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=running.base, timeout=30, headers=headers) as client:
            assert client.get("/api/subscribers/reader@example.org/export").status_code == 200
            signup = {"email": "new.reader@example.org", "topics": ["deepfakes"], "consent_text": "I agree."}
            assert client.post("/api/subscriptions", json=signup).status_code == 202
            assert client.get(f"/api/topics?leaked={token}").status_code == 200
    finally:
        log = running.log()
    assert token not in log and token[4:] not in log
    assert "reader" not in log
    entries = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert all(set(entry) >= {"time", "level", "logger", "event", "fields"} for entry in entries)
    access = [entry["fields"] for entry in entries if entry["logger"] == "uvicorn.access"]
    assert [(a["method"], a["path"], a["status"]) for a in access] == [
        ("GET", "/api/subscribers/…@example.org/export", 200),
        ("POST", "/api/subscriptions", 202),
        ("GET", "/api/topics?leaked=dgt_…", 200),
    ]

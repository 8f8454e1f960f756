"""The real web server's log (``digest serve`` under uvicorn): personal links and addresses stay out."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from digest.db.engine import make_engine, session_scope
from digest.logs import TOKEN_ROUTES
from digest.subscribers import store
from digest.subscribers.tokens import LinkSigner

SECRET = "access-log-test-key"


@dataclass
class Server:
    base: str
    process: subprocess.Popen[str]
    lines: queue.Queue[str]
    reader: threading.Thread

    def log(self) -> str:
        """Stop the server and return everything it wrote to its log."""
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)
        self.reader.join(timeout=30)
        assert self.process.stderr is not None
        self.process.stderr.close()
        out: list[str] = []
        while not self.lines.empty():
            out.append(self.lines.get())
        return "".join(out)


@pytest.fixture
def database(tmp_path: Path, sqlite_template: Path) -> tuple[str, dict[str, str]]:
    """A migrated SQLite database with one reader, and that reader's personal links."""
    path = tmp_path / "digest.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    with session_scope(engine) as session:
        reader = store.create(session, "reader@example.org", "weekly", datetime.now(UTC))
        store.set_topics(session, reader, ["deepfakes"])
        link_key = reader.link_key
    engine.dispose()
    signer = LinkSigner(SECRET)
    return url, {purpose: signer.make(purpose, link_key) for purpose in ("preferences", "unsubscribe", "confirm")}


def start(url: str, cwd: Path, **env: str) -> Server:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "digest", "serve", "--port", "0"],
        cwd=cwd,
        env={**clean, "DIGEST_DATABASE_URL": url, "DIGEST_SECRET_KEY": SECRET, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    found: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.put(line)
            running = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", line)
            if running:
                found.put(running.group(1))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        base = found.get(timeout=60)
    except queue.Empty:
        process.kill()
        raise AssertionError("the server did not start: " + "".join(lines.queue)) from None
    return Server(base, process, lines, reader)


@pytest.fixture
def served(database: tuple[str, dict[str, str]], tmp_path: Path) -> Iterator[tuple[Server, dict[str, str]]]:
    url, tokens = database
    server = start(url, tmp_path)
    yield server, tokens
    if server.process.poll() is None:
        server.log()


def visit(base: str, tokens: dict[str, str]) -> None:
    """What a reader and an editor do: open their links, download their data, search for an address."""
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as client:
        assert client.get(f"/preferences/{tokens['preferences']}").status_code == 200
        assert client.get(f"/preferences/{tokens['preferences']}/export").status_code == 200
        assert client.get(f"/unsubscribe/{tokens['unsubscribe']}").status_code == 200
        client.get(f"/confirm/{tokens['confirm']}")
        client.get("/editor/subscribers", params={"q": "reader@example.org"})


def test_the_access_log_cuts_personal_links_and_addresses(served: tuple[Server, dict[str, str]]) -> None:
    server, tokens = served
    visit(server.base, tokens)
    log = server.log()
    assert '"GET /preferences/… HTTP/1.1" 200' in log
    assert '"GET /preferences/…/export HTTP/1.1" 200' in log
    assert '"GET /unsubscribe/… HTTP/1.1" 200' in log
    assert '"GET /confirm/… HTTP/1.1"' in log
    assert "GET /editor/subscribers?q=…@example.org" in log
    for token in tokens.values():
        assert token not in log
    assert "reader" not in log


def test_addresses_are_logged_only_when_asked_and_links_never(
    database: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, tokens = database
    server = start(url, tmp_path, DIGEST_LOGGING__ADDRESSES="true", DIGEST_LOGGING__FORMAT="json")
    try:
        visit(server.base, tokens)
    finally:
        log = server.log()
    entries = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    access = [entry["event"] for entry in entries if entry["logger"] == "uvicorn.access"]
    assert len(access) == 5
    assert any("/editor/subscribers?q=reader%40example.org" in message for message in access)
    assert all(token not in log for token in tokens.values())


def test_every_token_route_is_cut_from_logs() -> None:
    """A new page that takes a personal token must be added to digest.logs.TOKEN_ROUTES."""
    import digest.web

    paths = []
    for module in pkgutil.walk_packages(digest.web.__path__, "digest.web."):
        router = getattr(importlib.import_module(module.name), "router", None)
        paths += [getattr(route, "path", "") for route in getattr(router, "routes", [])]
    with_tokens = {path.strip("/").split("/")[0] for path in paths if "{token}" in path}
    assert with_tokens == {"preferences", "unsubscribe", "confirm"}
    assert with_tokens <= set(TOKEN_ROUTES)

"""``digest bounces process`` (files and stdin) and ``digest bounces serve`` (a real LMTP server process)."""

from __future__ import annotations

import json
import os
import re
import signal
import smtplib
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine

from digest.cli.main import cli
from digest.db.engine import session_scope
from digest.subscribers import store as subscribers
from tests.bounces.reports import CORPUS, hard_bounce, soft_bounce
from tests.bounces.test_lmtp import deliver
from tests.cli.test_feeds_cli import run
from tests.conftest import TOPICS

ENV = {"DIGEST_TOPICS_FILE": str(TOPICS), "DIGEST_SECRET_KEY": "k"}


def add(database_url: str, email: str) -> None:
    added = run(database_url, "subscribers", "add", email, "--topics", "deepfakes", "--confirmed", env=ENV)
    assert added.exit_code == 0, added.output


def status(engine: Engine, email: str) -> str:
    with session_scope(engine) as s:
        person = subscribers.by_email(s, email)
        assert person is not None
        return person.status


def test_process_files_and_stdin(database_url: str, engine: Engine, tmp_path: Path) -> None:
    for reader in ("gone@example.net", "full@example.net"):
        add(database_url, reader)
    hard = tmp_path / "hard.eml"
    hard.write_bytes(hard_bounce("gone@example.net", "x"))
    result = run(database_url, "bounces", "process", str(hard), str(CORPUS / "vacation-auto-reply.eml"), env=ENV)
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines() == ["hard: suppressed 1", "ignored: none 1"]  # after the progress bar
    assert status(engine, "gone@example.net") == "unsubscribed"
    exported = json.loads(run(database_url, "subscribers", "export", "gone@example.net", env=ENV).output)
    assert [(b["kind"], b["status"], b["action"]) for b in exported["bounces"]] == [("hard", "5.1.1", "suppressed")]
    piped = CliRunner().invoke(
        cli,
        ["bounces", "process"],
        input=soft_bounce("full@example.net", "x"),
        env={"DIGEST_DATABASE_URL": database_url, **ENV},
    )
    assert piped.exit_code == 0 and piped.output == "soft: counted 1\n"
    assert status(engine, "full@example.net") == "confirmed"
    missing = run(database_url, "bounces", "process", str(tmp_path / "nope.eml"), env=ENV)
    assert missing.exit_code == 2 and missing.output == f"error: {tmp_path / 'nope.eml'}: no such file\n"


def test_serve_stores_what_an_mta_delivers_and_stops_on_sigterm(database_url: str, engine: Engine) -> None:
    add(database_url, "gone@example.net")
    env = {**os.environ, "DIGEST_DATABASE_URL": database_url, **ENV, "DIGEST_MAIL__BOUNCE_ADDRESS": "b@bounce.example"}
    server = subprocess.Popen(
        [sys.executable, "-m", "digest", "bounces", "serve", "--port", "0"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        line = server.stderr.readline()
        found = re.search(r"LMTP on 127\.0\.0\.1:(\d+)", line)
        assert found is not None, line
        with smtplib.LMTP("127.0.0.1", int(found.group(1))) as client:
            client.ehlo_or_helo_if_needed()
            answer = deliver(client, ["b+x@bounce.example"], hard_bounce("gone@example.net", "x"))
        assert answer == {"b+x@bounce.example": 250}
        assert status(engine, "gone@example.net") == "unsubscribed"
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(20) == 0
        if server.stderr:
            server.stderr.close()

"""`digest subscribers add|import` for pending people: the form's confirmation mail, and what comes next."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from click.testing import CliRunner, Result
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from digest.cli.main import cli
from digest.config import Settings
from digest.tagging.rules import Ruleset
from digest.web.app import create_app
from tests.conftest import TOPICS
from tests.mailbox import link, messages
from tests.smtpserver import SmtpServer

HEADER = "email,topics,frequency,confirmed\n"


def env_for(database_url: str, mail_url: str) -> dict[str, str]:
    return {
        "DIGEST_DATABASE_URL": database_url,
        "DIGEST_TOPICS_FILE": str(TOPICS),
        "DIGEST_MAIL_URL": mail_url,
        "DIGEST_SECRET_KEY": "test-signing-key",
        "DIGEST_BASE_URL": "http://testserver",
    }


def digest(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def test_pending_people_get_the_forms_confirmation_mail_and_its_link_confirms(
    database_url: str, engine: Engine, ruleset: Ruleset, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    env = env_for(database_url, smtp_server.url)
    added = digest(env, "subscribers", "add", "Bob@example.org", "--topics", "deepfakes")
    assert added.exit_code == 0, added.output
    assert "added bob@example.org (pending)" in added.output
    assert "confirmation mails: 1 sent. Pending people stay pending and get no digest until they click" in added.output
    assert "(valid for 7 days)" in added.output

    csv = tmp_path / "list.csv"
    csv.write_text(HEADER + "cy@example.org,deepfakes,weekly,false\ndee@example.org,ai-misuse,daily,true\n")
    imported = digest(env, "subscribers", "import", str(csv))
    assert imported.exit_code == 0, imported.output
    assert "reading list.csv as UTF-8" in imported.output
    assert "imported 2, skipped 0, 0 bad rows" in imported.output
    assert "confirmation mails: 1 sent." in imported.output
    assert [r.recipients for r in smtp_server.sink.received] == [["bob@example.org"], ["cy@example.org"]]
    mail = smtp_server.sink.received[1].message
    assert mail["Subject"] == "Confirm your subscription to Cybersecurity Law Digest"

    again = digest(env, "subscribers", "import", str(csv))
    assert "imported 0, skipped 2, 0 bad rows (2 already on the list, left as they were)" in again.output
    assert "confirmation mails" not in again.output and len(smtp_server.sink.received) == 2

    settings = Settings(database_url=database_url, secret_key="test-signing-key", base_url="http://testserver")
    with TestClient(create_app(settings, engine, ruleset)) as client:
        assert "You are subscribed" in client.get(link(mail, "confirm")).text
    exported = json.loads(digest(env, "subscribers", "export", "cy@example.org").output)
    assert exported["status"] == "confirmed"
    assert [e["action"] for e in exported["consent_events"]] == ["imported", "confirmed"]


def test_without_confirmation_mail_they_wait_and_a_later_run_mails_them(database_url: str, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    env = env_for(database_url, f"file://{outbox}")
    csv = tmp_path / "list.csv"
    csv.write_text(HEADER + "eve@example.org,deepfakes,weekly,no\nfay@example.org,deepfakes,weekly,no\n")
    quiet = digest(env, "subscribers", "import", str(csv), "--no-confirmation-mail")
    assert quiet.exit_code == 0, quiet.output
    assert "confirmation mails: none sent (--no-confirmation-mail); 2 pending get no digest until" in quiet.output
    assert messages(outbox) == []
    later = digest(env, "subscribers", "import", str(csv))
    assert "imported 0, skipped 2, 0 bad rows (2 already on the list" in later.output
    assert "confirmation mails: 2 sent." in later.output
    assert sorted(str(m["To"]) for m in messages(outbox)) == ["eve@example.org", "fay@example.org"]
    assert "confirmation mails" not in digest(env, "subscribers", "import", str(csv)).output
    assert len(messages(outbox)) == 2


def test_an_unreachable_mail_server_is_one_warning_and_a_rerun_sends(database_url: str, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a free port on loopback, then closed: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = env_for(database_url, f"smtp://127.0.0.1:{port}")
    csv = tmp_path / "list.csv"
    csv.write_text(HEADER + "gus@example.org,deepfakes,weekly,false\nhal@example.org,deepfakes,weekly,false\n")
    failed = digest(env, "subscribers", "import", str(csv))
    assert failed.exit_code == 0 and "Traceback" not in failed.output
    assert "imported 2, skipped 0, 0 bad rows" in failed.output
    assert "confirmation mails: 0 sent, 1 failed." in failed.output
    assert "Run the same import again later to send the mails that did not go out." in failed.output
    assert "warning: could not send confirmation mails:" in failed.output
    restarted = SmtpServer()
    restarted.start()
    try:
        retried = digest(env_for(database_url, restarted.url), "subscribers", "import", str(csv))
        assert "confirmation mails: 2 sent." in retried.output
        assert sorted(r.recipients[0] for r in restarted.sink.received) == ["gus@example.org", "hal@example.org"]
    finally:
        restarted.stop()


def test_the_assumed_encoding_is_shown(database_url: str, tmp_path: Path) -> None:
    csv = tmp_path / "excel.csv"
    csv.write_bytes((HEADER + "josé@example.org,deepfakes,weekly,true\n").encode("cp1252"))
    result = digest(env_for(database_url, f"file://{tmp_path / 'out'}"), "subscribers", "import", str(csv))
    assert result.exit_code == 0, result.output
    assert "reading excel.csv as Windows-1252 (guessed: line 2 is not UTF-8)" in result.output
    assert "imported 1, skipped 0, 0 bad rows" in result.output


def test_a_mail_url_that_cannot_work_is_refused_before_anything_is_stored(database_url: str) -> None:
    env = env_for(database_url, "gopher://mail.example.org")
    refused = digest(env, "subscribers", "add", "ivy@example.org", "--topics", "deepfakes")
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert "unsupported mail URL 'gopher://mail.example.org'" in refused.output
    listed = digest(env_for(database_url, "file:///tmp/unused-outbox"), "subscribers", "list", "--json")
    assert json.loads(listed.output)["by_status"] == {}

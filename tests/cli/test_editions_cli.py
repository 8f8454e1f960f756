"""`digest editions ...` and `digest send --now` as operators and scripts use them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from digest.db.engine import session_scope
from digest.digests.editions import edition_for
from digest.feeds.models import Story
from digest.tagging.rules import Ruleset
from tests.cli.test_feeds_cli import run
from tests.conftest import TOPICS
from tests.digests.helpers import ingest, rss
from tests.smtpserver import SmtpServer

NEWS = rss(
    ("Court jails man who cloned his boss's voice with a deepfake", "https://wire.example/1", "<p>AI tool.</p>"),
    ("Deepfake robocall of the mayor investigated", "https://wire.example/5", "<p>Voters misled.</p>"),
    ("Regulator fines app over children's data", "https://wire.example/2", "<p>Users under 13.</p>"),
)


def ids(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as s:
        return {title.split()[0]: i for i, title in s.execute(select(Story.id, Story.title))}


def test_the_desk_from_the_command_line(
    engine: Engine, database_url: str, ruleset: Ruleset, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    env = {
        "DIGEST_TOPICS_FILE": str(TOPICS),
        "DIGEST_MAIL_URL": smtp_server.url,
        "DIGEST_SECRET_KEY": "k",
        "DIGEST_DIGEST__REVIEW": "approve",
    }
    smtp_server.sink.refuse["gone@example.org"] = "550 5.1.1 No such mailbox here"
    for email, topics in (
        ("deep@example.org", "deepfakes"),
        ("gone@example.org", "deepfakes"),
        ("kids@example.org", "child-protection"),
    ):
        assert (
            run(
                database_url,
                "subscribers",
                "add",
                email,
                "--topics",
                topics,
                "--confirmed",
                "--frequency",
                "daily",
                env=env,
            ).exit_code
            == 0
        )
    now = datetime.now(UTC)
    ingest(engine, ruleset, NEWS, now)
    story = ids(engine)
    today = edition_for("daily", now, "UTC").partition(":")[2]

    waiting = run(database_url, "send", env=env)
    assert waiting.exit_code == 0, waiting.output
    assert "sent 0" in waiting.output and f"waiting for approval or held: {today}" in waiting.output

    excluded = run(database_url, "editions", "exclude", str(story["Court"]), "--keep-for-next", env=env)
    assert (
        excluded.exit_code == 0
        and f"edition {today}: story {story['Court']} excluded, kept for the next edition (now planned)"
        in excluded.output
    )
    assert run(database_url, "editions", "lead", str(story["Deepfake"]), "--editor", "alice", env=env).exit_code == 0
    note_file = tmp_path / "note.md"
    note_file.write_text("Deepfakes **everywhere** this week.\n")
    assert (
        run(database_url, "editions", "note", "--topic", "deepfakes", "--file", str(note_file), env=env).exit_code == 0
    )
    assert run(database_url, "editions", "note", "Good morning.", env=env).exit_code == 0

    shown = json.loads(run(database_url, "editions", "show", "--json", env=env).output)
    assert shown["state"] == "planned" and shown["lead"] == {
        "id": story["Deepfake"],
        "title": "Deepfake robocall of the mayor investigated",
    }
    assert shown["notes"] == {"deepfakes": "Deepfakes **everywhere** this week.", "edition": "Good morning."}
    deepfakes = next(t for t in shown["topics"] if t["topic"] == "deepfakes")
    court = next(s for s in deepfakes["stories"] if s["id"] == story["Court"])
    assert court["excluded"] and court["kept_for_next"]
    assert {"topics": ["deepfakes"], "names": ["Deepfakes"], "readers": 2} in shown["readers"]
    assert [d["action"] for d in shown["decisions"]] == ["exclude", "lead", "note", "note"]
    assert shown["decisions"][1]["editor"] == "alice" and shown["decisions"][0]["editor"].startswith("cli:")

    group = run(database_url, "preview", "--topics", "deepfakes", "--text", env=env)
    assert group.exit_code == 0 and "What readers of Deepfakes get in the daily edition of" in group.output
    assert "Lead story · Deepfakes" in group.output and "Good morning." in group.output
    assert "Deepfakes everywhere this week." in group.output and "cloned his boss" not in group.output
    reader = run(database_url, "preview", "deep@example.org", "--text", env=env)
    assert "This reader has not received the daily edition of" in reader.output
    assert "cloned his boss" not in reader.output
    assert "Deepfake robocall of the mayor investigated\n=====" in reader.output
    wrong = run(database_url, "preview", "--topics", "cats", env=env)
    assert wrong.exit_code == 2 and wrong.output.startswith("error: unknown topic 'cats'")
    assert (
        run(database_url, "editions", "approve", env=env).output.strip() == f"edition {today}: approved (now approved)"
    )
    sent = run(database_url, "send", env=env)
    assert "sent 2" in sent.output and "failed 1" in sent.output, sent.output
    received = {r.message["To"]: r.message for r in smtp_server.sink.received}
    assert set(received) == {"deep@example.org", "kids@example.org"}

    # A new process reads the same decisions and the failure with the server's answer.
    process_env = {**os.environ, "DIGEST_DATABASE_URL": database_url, **env}
    out = subprocess.run(
        [sys.executable, "-m", "digest", "editions", "show", today],
        env=process_env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"edition {today} (daily," in out and "): sent" in out
    assert f"lead: {story['Deepfake']} Deepfake robocall of the mayor investigated" in out
    assert "[excluded, kept for next]" in out
    assert "deliveries: queued 0, sending 0, sent 2, failed 1, cancelled 0, empty 0" in out
    assert "failed\tgone@example.org\trecipient refused: 550 5.1.1 No such mailbox here" in out
    listed = [json.loads(line) for line in run(database_url, "editions", "list", "--json", env=env).output.splitlines()]
    assert {"edition": today, "state": "sent"}.items() <= next(r for r in listed if r["edition"] == today).items()

    # The kept story goes to the deepfakes reader in the next edition, planned as of tomorrow morning.
    tomorrow = (now + timedelta(days=1)).replace(hour=7, minute=0, second=0, microsecond=0)
    assert run(database_url, "editions", "approve", tomorrow.date().isoformat(), env=env).exit_code == 0
    later = run(database_url, "send", "--now", tomorrow.isoformat(), env=env)
    assert later.exit_code == 0 and "sent 1" in later.output, later.output
    assert "cloned his boss" in smtp_server.sink.received[-1].message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_wrong_ids_and_editions_are_one_line_and_exit_2(database_url: str) -> None:
    env = {"DIGEST_TOPICS_FILE": str(TOPICS)}
    cases = {
        ("editions", "exclude", "999"): "error: no story has id 999",
        (
            "editions",
            "show",
            "2026-13-45",
        ): "error: '2026-13-45' is not a date: a daily edition is named like 2026-12-01",
        ("editions", "approve", "2026-W60"): "error: '2026-W60': 2026 has no ISO week 60",
        (
            "editions",
            "hold",
            "tuesday",
        ): "error: 'tuesday' is not an edition: name a daily one like 2026-12-01 and a weekly one like 2026-W49",
        ("editions", "note", "--topic", "cats", "hi"): "error: unknown topic 'cats' (known: ",
        ("editions", "note"): "error: give the note as TEXT or with --file FILE (one of them)",
        ("editions", "include", "5"): "error: no story has id 5",
        ("send", "--now", "tomorrow"): "error: --now 'tomorrow' is not an ISO time like 2026-12-01T07:00:00+00:00",
    }
    for args, message in cases.items():
        result = run(database_url, *args, env=env)
        assert result.exit_code == 2, (args, result.output)
        assert result.output.startswith(message) and len(result.output.strip().splitlines()) == 1, result.output
        assert "Traceback" not in result.output
    assert run(database_url, "editions", "hold", "2026-W49", env=env).exit_code == 0
    again = run(database_url, "editions", "hold", "weekly:2026-W49", env=env)
    assert again.exit_code == 2 and again.output.strip() == "error: edition weekly:2026-W49 is already held"


def test_the_demo_prints_a_working_editor_account(tmp_path: Path, ruleset: Ruleset) -> None:
    import re

    from fastapi.testclient import TestClient

    from digest.config import Settings
    from digest.db.engine import make_engine
    from digest.web.app import create_app

    result = subprocess.run(
        [sys.executable, "-m", "digest", "demo", "--dir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    account = re.search(r"the editor console: (http://\S+/editor/) .*name (\S+), password (\S+)", result.stdout)
    assert account is not None, result.stdout
    url = f"sqlite:///{tmp_path / 'demo' / 'digest.db'}"
    engine = make_engine(url)
    try:
        app = create_app(Settings(database_url=url, secret_key="demo"), engine, ruleset)
        with TestClient(app, follow_redirects=False) as client:
            signed_in = client.post("/editor/login", data={"username": account.group(2), "password": account.group(3)})
            assert signed_in.status_code == 303
            page = client.get("/editor/editions")
            assert page.status_code == 200 and "Editions" in page.text
    finally:
        engine.dispose()

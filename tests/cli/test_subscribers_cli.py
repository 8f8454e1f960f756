"""Editors' subscriber commands: add, import, list (no addresses unless asked), export, erase."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_feeds_cli import run
from tests.conftest import TOPICS

ENV = {"DIGEST_TOPICS_FILE": str(TOPICS)}


def test_add_list_export_erase(database_url: str, tmp_path: Path) -> None:
    env = {**ENV, "DIGEST_MAIL_URL": f"file://{tmp_path / 'outbox'}"}  # bob's confirmation mail goes there
    added = run(
        database_url,
        "subscribers",
        "add",
        "Ann@Example.org",
        "--topics",
        "deepfakes,ai-misuse",
        "--frequency",
        "daily",
        "--confirmed",
        env=ENV,
    )
    assert added.exit_code == 0 and added.output == "added ann@example.org (confirmed)\n"
    assert run(database_url, "subscribers", "add", "bob@example.org", "--topics", "deepfakes", env=env).exit_code == 0
    again = run(database_url, "subscribers", "add", "ann@example.org", "--topics", "deepfakes", env=ENV)
    assert again.exit_code == 1 and "already on the list (confirmed)" in again.output
    bad = run(database_url, "subscribers", "add", "nobody", "--topics", "deepfakes", env=ENV)
    assert bad.exit_code == 2 and "is not a valid email address" in bad.output
    unknown = run(database_url, "subscribers", "add", "c@example.org", "--topics", "crypto", env=ENV)
    assert unknown.exit_code == 2 and "unknown topic crypto" in unknown.output

    listed = run(database_url, "subscribers", "list", env=ENV)
    assert "by status: confirmed 1, pending 1" in listed.output
    assert "confirmed, by topic: ai-misuse 1, deepfakes 1" in listed.output
    assert "ann@example.org" not in listed.output
    full = json.loads(run(database_url, "subscribers", "list", "--show-addresses", "--json", env=ENV).output)
    assert [p["email"] for p in full["subscribers"]] == ["ann@example.org", "bob@example.org"]

    exported = json.loads(run(database_url, "subscribers", "export", "ANN@example.org", env=ENV).output)
    assert (exported["email"], exported["status"], exported["topics"]) == (
        "ann@example.org",
        "confirmed",
        ["ai-misuse", "deepfakes"],
    )
    assert exported["consent_events"][0]["action"] == "added-by-editor"

    erased = run(database_url, "subscribers", "erase", "ann@example.org", env=ENV)
    assert erased.exit_code == 0 and "only a salted hash remains" in erased.output
    assert (
        "no subscriber has the address ann@example.org"
        in run(database_url, "subscribers", "export", "ann@example.org", env=ENV).output
    )
    back = run(database_url, "subscribers", "add", "ann@example.org", "--topics", "deepfakes", env=ENV)
    assert back.exit_code == 1 and "unsubscribed or was erased" in back.output


def test_import_reports_bad_rows_by_line(database_url: str, tmp_path: Path) -> None:
    csv = tmp_path / "list.csv"
    csv.write_text(
        "email,topics,frequency,confirmed\nx@example.org,deepfakes,weekly,true\nbroken,deepfakes,weekly,true\n"
    )
    result = run(database_url, "subscribers", "import", str(csv), env=ENV)
    assert result.exit_code == 0
    assert "line 3: error: 'broken' is not a valid email address" in result.output
    assert "imported 1, skipped 0, 1 bad rows" in result.output


def test_editors_are_added_with_a_hashed_password(database_url: str) -> None:
    from click.testing import CliRunner

    from digest.cli.main import cli

    env = {"DIGEST_DATABASE_URL": database_url, "DIGEST_TOPICS_FILE": str(TOPICS)}
    added = CliRunner().invoke(
        cli, ["editors", "add", "Alice", "--password-stdin"], input="correct horse battery\n", env=env
    )
    assert added.exit_code == 0 and added.output == "added editor alice\n"
    short = CliRunner().invoke(cli, ["editors", "add", "bob", "--password-stdin"], input="short\n", env=env)
    assert short.exit_code == 2 and "at least 12 characters" in short.output
    listed = CliRunner().invoke(cli, ["editors", "list"], env=env)
    assert listed.output == "alice\tlast sign-in never\n"
    again = CliRunner().invoke(
        cli, ["editors", "add", "alice", "--password-stdin"], input="another good password\n", env=env
    )
    assert again.output == "new password for alice\n"

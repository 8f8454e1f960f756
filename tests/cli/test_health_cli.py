"""``digest health``: one line, exit 0 when the database, its schema and the mail setting are ready."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_feeds_cli import run
from tests.ports import closed_port


def test_ready(database_url: str, tmp_path: Path) -> None:
    result = run(database_url, "health", env={"DIGEST_MAIL_URL": f"file://{tmp_path / 'outbox'}"})
    assert (result.exit_code, result.output) == (0, "ready\n")


def test_not_ready_says_why_in_one_line(tmp_path: Path) -> None:
    never_created = f"sqlite:///{tmp_path / 'new.db'}"
    result = run(never_created, "health")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert result.output.startswith("not ready: the database") and "has not been created yet" in result.output

    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("")
    upgraded = run(never_created, "db", "upgrade")
    assert upgraded.exit_code == 0
    result = run(never_created, "health", env={"DIGEST_MAIL_URL": f"file://{in_the_way}/outbox"})
    assert (result.exit_code, result.output) == (
        1,
        f"not ready: mail outbox {in_the_way}/outbox cannot be written (mail_url file://…)\n",
    )


def test_an_unreachable_database_is_not_ready(tmp_path: Path) -> None:
    result = run(f"postgresql+psycopg://nobody@127.0.0.1:{closed_port()}/digest", "health")
    assert result.exit_code == 1 and "connection refused" in result.output

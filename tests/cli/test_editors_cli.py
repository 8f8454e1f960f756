"""``digest editors add|list|password|remove``: accounts for the console, errors for people."""

from __future__ import annotations

from datetime import UTC, datetime

from click.testing import CliRunner, Result
from sqlalchemy import Engine

from digest.cli.main import cli
from digest.db.engine import session_scope
from digest.editors import store


def editors(database_url: str, *args: str, password: str | None = None) -> Result:
    return CliRunner().invoke(
        cli, ["editors", *args], input=f"{password}\n" if password else None, env={"DIGEST_DATABASE_URL": database_url}
    )


def test_add_list_change_password_and_remove(database_url: str, engine: Engine) -> None:
    assert editors(database_url, "list").output == "no editors yet: add one with 'digest editors add NAME'\n"
    added = editors(database_url, "add", "Alice", "--password-stdin", password="correct horse battery")
    assert added.exit_code == 0 and added.output == "added editor alice\n"
    assert editors(database_url, "list").output == "alice\tlast sign-in never\n"
    with session_scope(engine) as s:
        store.check_login(s, "alice", "correct horse battery", datetime(2026, 12, 1, 9, 30, tzinfo=UTC))
        old_key = store.by_name(s, "alice").session_key  # type: ignore[union-attr]
    assert editors(database_url, "list").output == "alice\tlast sign-in 2026-12-01 09:30 UTC\n"

    changed = editors(database_url, "password", "alice", "--password-stdin", password="another fine password")
    assert changed.exit_code == 0 and changed.output == "new password for alice; their other sessions are signed out\n"
    with session_scope(engine) as s:
        assert store.check_login(s, "alice", "another fine password", datetime.now(UTC)) is not None
        assert store.by_name(s, "alice").session_key != old_key  # type: ignore[union-attr]
    short = editors(database_url, "password", "alice", "--password-stdin", password="short")
    assert short.exit_code == 2 and short.output == "error: a password needs at least 12 characters\n"

    nobody = editors(database_url, "password", "bob", "--password-stdin", password="whatever it is now")
    assert nobody.exit_code == 2
    assert nobody.output == "error: no editor is called bob; 'digest editors list' shows who there is\n"
    assert editors(database_url, "remove", "bob").exit_code == 2
    removed = editors(database_url, "remove", "ALICE")
    assert removed.exit_code == 0 and removed.output == "removed editor alice\n"
    with session_scope(engine) as s:
        assert store.by_name(s, "alice") is None

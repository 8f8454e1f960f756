"""Operators' mistakes, run as the real command (``python -m digest``): one or two lines, exit 2, no traceback."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import PG_ADMIN_URL
from tests.ports import closed_port


def digest(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    return subprocess.run(
        [sys.executable, "-m", "digest", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_operator_error(result: subprocess.CompletedProcess[str], *names: str) -> None:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert message.startswith("error: "), message
    assert len(message.splitlines()) <= 2, message
    for name in names:
        assert name in message, message


@pytest.fixture
def sqlite_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    done = digest("db", "upgrade", cwd=tmp_path, DIGEST_DATABASE_URL=url)
    assert done.returncode == 0, done.stderr
    return url


def set_revision(url: str, revision: str) -> None:
    database = make_url(url).database
    assert database
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE alembic_version SET version_num = ?", (revision,))


def test_a_refused_database_port(tmp_path: Path) -> None:
    port = closed_port()
    url = f"postgresql+psycopg://postgres:db-password@127.0.0.1:{port}/digest"
    result = digest("feeds", "list", cwd=tmp_path, DIGEST_DATABASE_URL=url)
    assert_operator_error(result, f"127.0.0.1:{port}/digest", "connection refused")
    assert "db-password" not in result.stderr


def test_a_database_that_does_not_exist(tmp_path: Path) -> None:
    probe = socket.socket()
    server = make_url(PG_ADMIN_URL)
    try:
        probe.settimeout(2)
        probe.connect((server.host or "127.0.0.1", server.port or 5432))
    except OSError:
        pytest.skip(f"no PostgreSQL server at {PG_ADMIN_URL}")
    finally:
        probe.close()
    url = server.set(database="digest_no_such_database").render_as_string(hide_password=False)
    result = digest("subscribers", "list", cwd=tmp_path, DIGEST_DATABASE_URL=url)
    assert_operator_error(result, "'digest_no_such_database' does not exist")


@pytest.mark.parametrize("url", ["mysql://digest@localhost/digest", "oracle://x@y/z", "digest.db"])
def test_an_unsupported_database_url_names_the_variable(tmp_path: Path, url: str) -> None:
    result = digest("feeds", "list", cwd=tmp_path, DIGEST_DATABASE_URL=url)
    assert_operator_error(result, "environment variable DIGEST_DATABASE_URL", "database_url", "sqlite:///")


def test_an_unsupported_database_url_in_the_file_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "digest.toml"
    config.write_text('database_url = "mysql://digest@localhost/digest"\n')
    result = digest("feeds", "list", cwd=tmp_path, DIGEST_CONFIG=str(config))
    assert_operator_error(result, str(config), "unsupported database 'mysql://'")


def test_a_sqlite_folder_that_cannot_be_made(tmp_path: Path) -> None:
    (tmp_path / "var").write_text("a file where the database folder should be")
    url = f"sqlite:///{tmp_path / 'var' / 'digest.db'}"
    result = digest("db", "upgrade", cwd=tmp_path, DIGEST_DATABASE_URL=url)
    assert_operator_error(result, f"cannot make the folder {tmp_path / 'var'}", "in the way")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_a_sqlite_folder_that_is_not_writable(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o500)
    result = digest("db", "upgrade", cwd=tmp_path, DIGEST_DATABASE_URL=f"sqlite:///{folder / 'digest.db'}")
    assert_operator_error(result, str(folder / "digest.db"))


def test_a_schema_not_upgraded(tmp_path: Path, sqlite_db: str) -> None:
    set_revision(sqlite_db, "0001")
    result = digest("feeds", "list", cwd=tmp_path, DIGEST_DATABASE_URL=sqlite_db)
    assert_operator_error(result, "is at schema revision 0001", "run 'digest db upgrade'")


def test_a_schema_from_a_newer_version(tmp_path: Path, sqlite_db: str) -> None:
    set_revision(sqlite_db, "9999_from_the_future")
    for args in (["feeds", "list"], ["db", "upgrade"]):
        result = digest(*args, cwd=tmp_path, DIGEST_DATABASE_URL=sqlite_db)
        assert_operator_error(result, "9999_from_the_future", "does not know")


def test_a_mail_server_that_is_not_listening(tmp_path: Path, sqlite_db: str) -> None:
    added = digest(
        "subscribers",
        "add",
        "reader@example.org",
        "--topics",
        "deepfakes",
        "--confirmed",
        cwd=tmp_path,
        DIGEST_DATABASE_URL=sqlite_db,
    )
    assert added.returncode == 0, added.stderr
    port = closed_port()
    result = digest(
        "send",
        cwd=tmp_path,
        DIGEST_DATABASE_URL=sqlite_db,
        DIGEST_MAIL_URL=f"smtp://digest:secret-password@127.0.0.1:{port}",
        DIGEST_DIGEST__SEND_EMPTY="true",  # there is something to send without any stories
    )
    assert_operator_error(result, f"mail server 127.0.0.1:{port}", "connection refused")
    assert "secret-password" not in result.stderr
    # Nothing was attempted: the reader still gets the edition once the server is reachable.
    outbox = tmp_path / "outbox"
    sent = digest(
        "send",
        cwd=tmp_path,
        DIGEST_DATABASE_URL=sqlite_db,
        DIGEST_MAIL_URL=f"file://{outbox}",
        DIGEST_DIGEST__SEND_EMPTY="true",
    )
    assert sent.returncode == 0, sent.stderr
    assert "sent 1," in sent.stdout and len(list(outbox.glob("*.eml"))) == 1


def test_an_unknown_setting_in_the_environment_names_the_variable(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "digest.toml").write_text("[feeds]\nconcurrency = 4\n")
    result = digest("feeds", "list", cwd=tmp_path, DIGEST_DATABASE__URL="sqlite:///x.db")
    assert_operator_error(result, "environment variable DIGEST_DATABASE__URL", "unknown setting 'database'")
    assert "digest.toml" not in result.stderr


def test_a_bad_value_in_the_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "digest.toml").write_text('[digest]\ntimezone = "europe/london"\n')
    result = digest("feeds", "list", cwd=tmp_path)
    assert_operator_error(result, "config/digest.toml", "digest.timezone", "did you mean 'Europe/London'?")


def test_a_bad_value_in_the_environment_names_the_variable(tmp_path: Path) -> None:
    result = digest("feeds", "list", cwd=tmp_path, DIGEST_FEEDS__CONCURRENCY="lots")
    assert_operator_error(result, "environment variable DIGEST_FEEDS__CONCURRENCY", "feeds.concurrency", "'lots'")

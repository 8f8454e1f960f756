"""The command line answers at once: light commands load none of the heavy libraries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest
from sqlalchemy import Engine

from digest.cli.main import COMMANDS, cli
from digest.config import Settings
from digest.tagging.rules import Ruleset
from tests.digests.helpers import ingest, rss, subscribe

# Loaded only by the commands that need them: the web app, migrations, password hashing, the feed
# fetcher and parser, the renderer, the scheduler; and SQLAlchemy and pydantic, since the light
# commands read through the database driver itself and the settings are plain dataclasses.
HEAVY = ["fastapi", "starlette", "uvicorn", "alembic", "argon2", "httpx", "feedparser", "jinja2", "css_inline",
         "nh3", "apscheduler", "itsdangerous", "mako", "sqlalchemy", "pydantic", "pydantic_core"]  # fmt: skip

# Runs the real console entry point in a fresh interpreter, then reports which modules it loaded.
PROBE = """
import json, sys
from digest.cli.main import main
sys.argv = ["digest", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


# Nor the modules that bring them or cost as much: the engine and the models, and the compiled rules
# (the topic commands read only the topics' names from the rules file).
ORM = ["digest.db.engine", "digest.db.types", "digest.feeds.models", "digest.subscribers.models",
       "digest.mail.models", "digest.digests.edition_models", "digest.tagging.tagger", "digest.tagging.rules",
       "digest.subscribers.signup"]  # fmt: skip


@pytest.fixture
def newsroom(database_url: str, engine: Engine, ruleset: Ruleset, settings: Settings) -> str:
    """A database with a story on two topics, its feed and a reader, so every command has rows to show."""
    now = datetime.now(UTC)
    headline = ("Court fines deepfake app maker", "https://wire.example/1", "A deepfake nudify app was fined.")
    ingest(engine, ruleset, rss(headline), now)
    subscribe(engine, settings, "reader@example.org", ["deepfakes"], "weekly", now, ruleset)
    return database_url


def loaded_by(args: list[str], cwd: Path, database_url: str) -> tuple[int, set[str]]:
    """The exit code and the top-level packages the command loaded."""
    code, modules = modules_of(args, cwd, database_url)
    return code, {name.split(".")[0] for name in modules}


def modules_of(args: list[str], cwd: Path, database_url: str) -> tuple[int, set[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        cwd=cwd,
        env={**env, "DIGEST_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], set(report["modules"])


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["feeds", "list"],
        ["feeds", "list", "--json"],
        ["subscribers", "export", "reader@example.org"],
        ["subscribers", "export", "nobody@example.org"],
        ["topics"],
        ["topics", "--json"],
        ["stories", "list"],
        ["stories", "list", "--json"],
        ["editions", "list"],
        ["editions", "list", "--json"],
    ],
    ids=" ".join,
)
def test_light_commands_load_no_heavy_library(args: list[str], newsroom: str, tmp_path: Path) -> None:
    code, loaded = modules_of(args, tmp_path, newsroom)
    modules = {name.split(".")[0] for name in loaded}
    assert code in ((1,) if "nobody@example.org" in args else (0, None)), code  # 1: an address nobody has
    assert sorted(modules & set(HEAVY)) == []
    assert sorted(loaded & set(ORM)) == []
    # Tables are drawn by rich only at a terminal; here the output is a pipe.
    assert "rich" not in modules


def test_help_loads_neither_the_database_nor_the_settings(tmp_path: Path) -> None:
    _code, modules = loaded_by(["--help"], tmp_path, "sqlite:///unused.db")
    assert {"sqlalchemy", "pydantic", "rich"} & modules == set()


def test_the_listed_help_is_each_commands_own() -> None:
    ctx = click.Context(cli)
    for name, (_target, listed) in COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None, name
        assert (command.help or "").split("\n\n")[0].replace("\n", " ").strip() == listed, name


def test_every_command_is_listed_in_the_help() -> None:
    result = subprocess.run([sys.executable, "-m", "digest", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    listed = result.stdout.split("Commands:")[1]
    for name in COMMANDS:
        assert f"\n  {name} " in listed


def test_a_piped_table_is_plain_aligned_columns(newsroom: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    done = subprocess.run(
        [sys.executable, "-m", "digest", "feeds", "list"],
        cwd=tmp_path,
        env={**env, "DIGEST_DATABASE_URL": newsroom},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    header, row = done.stdout.splitlines()  # one line per feed, whatever the width of the terminal
    assert header.split() == ["url", "title", "status", "errors", "last", "error", "stories", "next", "poll"]
    assert row.startswith("https://wire.example/rss  Wire")
    columns = [header.index(name) for name in ("status", "errors", "stories")]
    assert [row[at - 1] + row[at] for at in columns] == [" " + row[at] for at in columns]  # each starts a cell
    assert row[header.index("stories")] == "1" and row[header.index("errors")] == "0"

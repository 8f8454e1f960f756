"""The command line answers at once: light commands load none of the heavy libraries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from digest.cli.main import COMMANDS, cli

# Loaded only by the commands that need them: the web app, migrations, password hashing, the feed
# fetcher and parser, the renderer, the scheduler.
HEAVY = ["fastapi", "starlette", "uvicorn", "alembic", "argon2", "httpx", "feedparser", "jinja2", "css_inline",
         "nh3", "apscheduler", "itsdangerous", "mako"]  # fmt: skip

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


# Nor do they load the ORM and the models: they read with Core statements (digest.db.engine.read_scope).
ORM = ["sqlalchemy.orm", "digest.feeds.models", "digest.subscribers.models", "digest.mail.models",
       "digest.digests.edition_models", "digest.tagging.tagger", "digest.subscribers.signup"]  # fmt: skip


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
        ["subscribers", "export", "nobody@example.org"],
        ["topics", "--json"],
        ["stories", "list", "--json"],
        ["editions", "list", "--json"],
    ],
    ids=" ".join,
)
def test_light_commands_load_no_heavy_library(args: list[str], database_url: str, tmp_path: Path) -> None:
    code, loaded = modules_of(args, tmp_path, database_url)
    modules = {name.split(".")[0] for name in loaded}
    assert code in (0, None, 1), code  # 1: export of an address nobody has, said in one line
    assert sorted(modules & set(HEAVY)) == []
    assert sorted(loaded & set(ORM)) == []
    if "list" not in args or "--json" in args:
        assert "rich" not in modules  # only tables and progress bars need it


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

"""Schema management through Alembic, the only source of the schema.

``upgrade`` creates or upgrades the database; ``check_schema`` lets every command that needs the
database stop with a clear instruction when it was never created, is behind the code, or was
upgraded by a newer version. The check runs before every command, so it does not load Alembic (a
quarter of a second): it reads the revision ids from the migration files and compares the one stored
in the database's ``alembic_version`` table.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from digest.db.engine import describe_url, reading
from digest.db.locks import hold_lock
from digest.failures import OperatorError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE)


class SchemaError(OperatorError):
    """The database has no schema, an older one than this code needs, or one this code does not know."""


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


@cache
def _parents() -> dict[str, tuple[str, ...]]:
    """Each shipped revision id and the ids it revises, read from the migration files' text."""
    parents: dict[str, tuple[str, ...]] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        found = {name: ast.literal_eval(value.strip()) for name, value in _ASSIGNMENT.findall(path.read_text())}
        if "revision" in found:
            down = found.get("down_revision")
            parents[found["revision"]] = tuple(down) if isinstance(down, tuple | list) else ((down,) if down else ())
    return parents


def known_revisions() -> frozenset[str]:
    return frozenset(_parents())


def head_revision() -> str:
    parents = _parents()
    revised = {p for ps in parents.values() for p in ps}
    heads = sorted(set(parents) - revised)
    if len(heads) != 1:
        raise RuntimeError(f"the migrations in {MIGRATIONS} must have exactly one head, found {heads or 'none'}")
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    """The revision stored in the database; None when it was never upgraded."""
    with reading(engine).connect() as connection:  # no write lock for a read
        if not inspect(connection).has_table("alembic_version"):
            return None
        stored = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(stored) > 1:
        raise SchemaError(f"the database {_where(engine)} records several schema revisions: {', '.join(stored)}")
    return stored[0] if stored else None


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Bring the schema to ``revision``; returns (revision before, revision after).

    Several processes starting together (the web app and the scheduler) upgrade one after another:
    the second finds the schema done.
    """
    from alembic import command

    with hold_lock(engine, "schema"):
        before = current_revision(engine)
        if before is not None and before not in known_revisions():
            raise SchemaError(_too_new(engine, before))
        command.upgrade(alembic_config(engine), revision)
        after = current_revision(engine)
    assert after is not None
    return before, after


def check_schema(engine: Engine) -> None:
    current = current_revision(engine)
    head = head_revision()
    if current is None:
        raise SchemaError(f"the database {_where(engine)} has not been created yet: run 'digest db upgrade' first")
    if current not in known_revisions():
        raise SchemaError(_too_new(engine, current))
    if current != head:
        raise SchemaError(
            f"the database {_where(engine)} is at schema revision {current}, this version needs {head}: "
            "run 'digest db upgrade'"
        )


def _too_new(engine: Engine, current: str) -> str:
    return (
        f"the database {_where(engine)} is at schema revision {current}, which this version of digest does not "
        f"know (its newest is {head_revision()}): a newer version upgraded it; run that version"
    )


def _where(engine: Engine) -> str:
    return describe_url(engine.url.render_as_string(hide_password=False))

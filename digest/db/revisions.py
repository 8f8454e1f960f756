"""Which schema revision the database is at, and whether this code can work with it, without Alembic.

The check runs before every command, so it loads neither Alembic (a quarter of a second) nor
SQLAlchemy: it reads the revision ids from the migration files' text and compares the one stored in
the database's ``alembic_version`` table, read through a light ``Reader`` (digest.db.light). The
engine's commands (digest.db.migrate) read it the same way, over their own connection.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

from digest.db.light import Reader
from digest.failures import OperatorError

MIGRATIONS = Path(__file__).parent / "migrations"
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE)


class SchemaError(OperatorError):
    """The database has no schema, an older one than this code needs, or one this code does not know."""


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


def stored_revision(reader: Reader, where: str) -> str | None:
    """The revision stored in the database (``where``: its URL, password hidden); None when it was
    never upgraded."""
    if not reader.has_table("alembic_version"):
        return None
    stored = [str(row[0]) for row in reader.rows("SELECT version_num FROM alembic_version")]
    if len(stored) > 1:
        raise SchemaError(f"the database {where} records several schema revisions: {', '.join(stored)}")
    return stored[0] if stored else None


def check_revision(reader: Reader, where: str) -> None:
    """Stop with an instruction unless the database is at the schema this code needs."""
    current = stored_revision(reader, where)
    head = head_revision()
    if current is None:
        raise SchemaError(f"the database {where} has not been created yet: run 'digest db upgrade' first")
    if current not in known_revisions():
        raise SchemaError(too_new(where, current))
    if current != head:
        raise SchemaError(
            f"the database {where} is at schema revision {current}, this version needs {head}: run 'digest db upgrade'"
        )


def too_new(where: str, current: str) -> str:
    return (
        f"the database {where} is at schema revision {current}, which this version of digest does not "
        f"know (its newest is {head_revision()}): a newer version upgraded it; run that version"
    )

"""Schema management through Alembic, the only source of the schema.

``upgrade`` creates or upgrades the database; ``check_schema`` lets every command that needs the
database stop with a clear instruction when it was never created or is behind the code.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from digest.db.engine import describe_url, reading
from digest.db.locks import hold_lock

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaError(Exception):
    """The database has no schema, or an older one than this code needs."""


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def current_revision(engine: Engine) -> str | None:
    with reading(engine).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Bring the schema to ``revision``; returns (revision before, revision after).

    Several processes starting together (the web app and the scheduler) upgrade one after another:
    the second finds the schema done.
    """
    with hold_lock(engine, "schema"):
        before = current_revision(engine)
        command.upgrade(alembic_config(engine), revision)
        after = current_revision(engine)
    assert after is not None
    return before, after


def check_schema(engine: Engine) -> None:
    current = current_revision(engine)
    where = describe_url(engine.url.render_as_string(hide_password=False))
    if current is None:
        raise SchemaError(f"the database {where} has not been created yet: run 'digest db upgrade' first")
    if current != head_revision():
        raise SchemaError(
            f"the database {where} is at schema revision {current}, this version needs "
            f"{head_revision()}: run 'digest db upgrade'"
        )

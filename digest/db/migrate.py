"""Schema management through Alembic, the only source of the schema.

``upgrade`` creates or upgrades the database; ``check_schema`` lets every command that needs the
database stop with a clear instruction when it was never created, is behind the code, or was
upgraded by a newer version. The check itself (digest.db.revisions) loads neither Alembic nor
SQLAlchemy, so the light commands run it over their own connection; here it runs over an engine's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine

from digest.db.engine import describe_url, reading
from digest.db.light import sa_reader
from digest.db.locks import hold_lock
from digest.db.revisions import (
    MIGRATIONS,
    SchemaError,
    check_revision,
    head_revision,
    known_revisions,
    stored_revision,
    too_new,
)

if TYPE_CHECKING:
    from alembic.config import Config

# Asked for from here by the migration tests and tools, beside upgrade and check_schema.
__all__ = [
    "MIGRATIONS", "SchemaError", "alembic_config", "check_schema", "current_revision", "head_revision",
    "known_revisions", "upgrade",
]  # fmt: skip


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    """The revision stored in the database; None when it was never upgraded."""
    with reading(engine).connect() as connection:  # no write lock for a read
        return stored_revision(sa_reader(connection), _where(engine))


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Bring the schema to ``revision``; returns (revision before, revision after).

    Several processes starting together (the web app and the scheduler) upgrade one after another:
    the second finds the schema done.
    """
    from alembic import command

    with hold_lock(engine, "schema"):
        before = current_revision(engine)
        if before is not None and before not in known_revisions():
            raise SchemaError(too_new(_where(engine), before))
        command.upgrade(alembic_config(engine), revision)
        after = current_revision(engine)
    assert after is not None
    return before, after


def check_schema(engine: Engine) -> None:
    with reading(engine).connect() as connection:
        check_revision(sa_reader(connection), _where(engine))


def _where(engine: Engine) -> str:
    return describe_url(engine.url.render_as_string(hide_password=False))

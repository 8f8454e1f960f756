"""The schema comes only from Alembic migrations, and they match the models exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from digest.db.base import Base
from digest.db.engine import make_engine
from digest.db.migrate import SchemaError, check_schema, current_revision, head_revision, upgrade


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_schema_is_at_head_and_accepted(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    check_schema(engine)


def test_a_database_never_created_gets_a_clear_instruction(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    with pytest.raises(SchemaError, match="has not been created yet: run 'digest db upgrade'"):
        check_schema(engine)
    before, after = upgrade(engine)
    assert (before, after) == (None, head_revision())
    assert {"feeds", "stories", "story_sources"} <= set(inspect(engine).get_table_names())
    assert upgrade(engine) == (head_revision(), head_revision())
    engine.dispose()

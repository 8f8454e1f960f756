"""The schema comes only from Alembic migrations, and they match the models exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

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


def test_the_revisions_read_from_the_files_are_alembics() -> None:
    """The schema check reads revision ids without loading Alembic; they must be the ones Alembic sees."""
    from alembic.script import ScriptDirectory

    from digest.db.migrate import MIGRATIONS, known_revisions

    script = ScriptDirectory(str(MIGRATIONS))
    assert known_revisions() == {revision.revision for revision in script.walk_revisions()}
    assert head_revision() == script.get_current_head()


def test_a_schema_behind_or_ahead_of_the_code_is_refused(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    with pytest.raises(SchemaError, match=f"is at schema revision 0001, this version needs {head_revision()}"):
        check_schema(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffff_newer'"))
    with pytest.raises(SchemaError, match="revision ffff_newer, which this version of digest does not know"):
        check_schema(engine)
    with pytest.raises(SchemaError, match="does not know"):
        upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE alembic_version SET version_num = '{head_revision()}'"))
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


def test_several_processes_can_upgrade_at_once(tmp_path: Path) -> None:
    """Two containers starting together both run 'digest db upgrade'; both must succeed."""
    import os
    import subprocess
    import sys

    from tests.conftest import PG_ADMIN_URL, REQUIRE_PG

    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql("DROP DATABASE IF EXISTS digest_upgrade_race")
            conn.exec_driver_sql("CREATE DATABASE digest_upgrade_race")
    except Exception as exc:
        admin.dispose()
        if REQUIRE_PG:
            raise
        pytest.skip(f"no PostgreSQL: {exc}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/digest_upgrade_race"
    env = {**os.environ, "DIGEST_DATABASE_URL": url}
    try:
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "digest", "db", "upgrade"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        results = [run.communicate(timeout=120) for run in runs]
        assert [run.returncode for run in runs] == [0, 0, 0], results
        assert sum("schema upgraded from nothing" in out for out, _err in results) == 1
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql("DROP DATABASE IF EXISTS digest_upgrade_race WITH (FORCE)")
        admin.dispose()

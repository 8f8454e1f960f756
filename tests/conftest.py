"""Shared fixtures: real databases (SQLite always, PostgreSQL when reachable), a real HTTP server."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from digest.config import FeedSettings, Settings
from digest.db.base import Base
from digest.db.engine import make_engine
from digest.db.migrate import upgrade
from digest.db.models import import_all_models
from digest.tagging.rules import Ruleset, load_rules
from tests.httpserver import FeedServer
from tests.smtpserver import SmtpServer

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TOPICS = ROOT / "config" / "topics.toml"
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("TEST_REQUIRE_POSTGRES") == "1"

import_all_models()

# No per-example deadline: on a busy 2-core machine a slow example is not a failure.
hypothesis_settings.register_profile("digest", deadline=None)
hypothesis_settings.load_profile("digest")


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data; skips the test with a reason when the folder is absent."""
    path = SHARED.joinpath("data", *parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared data set sits beside the repository")
    return path


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy, which is much faster than migrating again."""
    path = tmp_path_factory.mktemp("template") / "digest.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run (per xdist worker), migrated once."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        admin.dispose()
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is required (TEST_REQUIRE_POSTGRES=1): {exc}")
        pytest.skip(f"no PostgreSQL reachable at {PG_ADMIN_URL}")
    name = f"digest_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "digest.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    # The feed servers of the tests listen on loopback: the private-address guard is off here, and on
    # in the tests of the guard itself. The time limit is generous because small polls parse between
    # fetches, and on a busy machine that can hold a fetch past a short limit; the tests of time
    # limits set their own.
    feeds = FeedSettings(timeout_seconds=30, connect_timeout_seconds=5, allow_private_networks=True)
    return Settings(database_url=database_url, feeds=feeds)


@pytest.fixture(scope="session")
def ruleset() -> Ruleset:
    """The launch topics as shipped in config/topics.toml."""
    return load_rules(TOPICS)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    server.start()
    yield server
    server.stop()

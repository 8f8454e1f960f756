"""The light reader (the drivers themselves, no SQLAlchemy) reads what the engine wrote, the same way."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, text

from digest.db.engine import read_scope
from digest.db.light import read_database, sa_reader
from digest.db.revisions import SchemaError, check_revision, head_revision
from digest.db.urls import DatabaseUnavailable, describe_url, parse_url
from digest.feeds.light_store import list_feed_health
from digest.feeds.listing_store import list_story_listings
from digest.tagging.rules import Ruleset
from tests.digests.helpers import ingest, rss

WHEN = datetime(2026, 12, 1, 9, 30, 15, tzinfo=UTC)
STORY = ("Court fines deepfake app maker 100%", "https://wire.example/1", "A deepfake nudify app was fined.")


def test_the_light_reader_sees_what_the_engine_wrote(database_url: str, engine: Engine, ruleset: Ruleset) -> None:
    ingest(engine, ruleset, rss(STORY), WHEN)
    with read_database(database_url) as reader:
        light = list_story_listings(reader, topic="deepfakes")
        health = list_feed_health(reader)
    with read_scope(engine) as connection:
        through_engine = list_story_listings(sa_reader(connection), topic="deepfakes")
    assert light == through_engine
    (story,) = light
    assert story.title == STORY[0] and story.first_seen_at == WHEN and story.first_seen_at.tzinfo is UTC
    assert story.published_guessed is True and "deepfakes" in story.why
    assert [s.feed_url for s in story.sources] == ["https://wire.example/rss"]
    assert [(f.url, f.stories, f.next_poll_at.tzinfo) for f in health] == [("https://wire.example/rss", 1, UTC)]


def test_values_with_percent_signs_and_placeholders(database_url: str, engine: Engine, ruleset: Ruleset) -> None:
    ingest(engine, ruleset, rss(STORY), WHEN)
    with read_database(database_url) as reader:
        found = reader.rows("SELECT title FROM stories WHERE title LIKE '%100%' AND link = ?", (STORY[1],))
        assert found == [(STORY[0],)]
        assert reader.scalar("SELECT title FROM stories WHERE link = ?", ("https://elsewhere.example/",)) is None
        assert reader.has_table("stories") and not reader.has_table("no_such_table")


def test_the_schema_is_checked_through_the_light_reader(database_url: str, engine: Engine) -> None:
    with read_database(database_url) as reader:
        check_revision(reader, describe_url(database_url))
        with pytest.raises((sqlite3.OperationalError, psycopg.Error), match=r"read-only|readonly"):  # no writes
            reader.rows("UPDATE alembic_version SET version_num = '0001'")
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    try:
        with read_database(database_url) as reader, pytest.raises(SchemaError, match="at schema revision 0001, this"):
            check_revision(reader, describe_url(database_url))
    finally:  # the PostgreSQL database is shared by the tests of this worker
        with engine.begin() as connection:
            connection.execute(text(f"UPDATE alembic_version SET version_num = '{head_revision()}'"))


def test_a_light_reader_keeps_no_writer_waiting(tmp_path: Path, engine: Engine, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("row locks: PostgreSQL readers never block writers")
    database = parse_url(database_url).database
    assert database
    with read_database(database_url) as reader:
        reader.rows("SELECT count(*) FROM feeds")
        writer = sqlite3.connect(database, timeout=0.2, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")  # refused ("database is locked") if the reader held the lock
        writer.execute("INSERT INTO app_secrets (name, value) VALUES ('probe', 'x')")
        writer.execute("COMMIT")
        writer.close()


def test_an_unopenable_sqlite_file_is_one_clear_message(tmp_path: Path) -> None:
    (tmp_path / "var").write_text("a file where the database folder should be")
    blocked = f"sqlite:///{tmp_path / 'var' / 'digest.db'}"
    in_the_way = r"cannot make the folder .*: a file of that name is in the way"
    with pytest.raises(DatabaseUnavailable, match=in_the_way), read_database(blocked):
        pass
    (tmp_path / "folder.db").mkdir()
    folder = f"sqlite:///{tmp_path / 'folder.db'}"
    cannot_open = r"cannot open the SQLite database .*folder\.db"
    with pytest.raises(DatabaseUnavailable, match=cannot_open), read_database(folder):
        pass


def test_urls_are_read_as_sqlalchemy_reads_them() -> None:
    assert parse_url("sqlite:///var/digest.db").database == "var/digest.db"
    assert parse_url("sqlite:////srv/digest.db").database == "/srv/digest.db"
    assert parse_url("sqlite://").in_memory
    pg = parse_url("postgresql+psycopg://digest:s3cret@db.example:6543/news")
    assert (pg.backend, pg.host, pg.port, pg.database) == ("postgresql", "db.example", 6543, "news")
    assert pg.libpq() == "postgresql://digest:s3cret@db.example:6543/news"
    assert describe_url(pg.url) == "postgresql+psycopg://digest:***@db.example:6543/news"

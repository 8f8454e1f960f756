"""Reading through the database drivers themselves (sqlite3, psycopg), without SQLAlchemy.

The light commands (``feeds list``, ``subscribers export``, ``topics``, ``stories list``, ``editions
list``) must answer at once, and importing SQLAlchemy alone takes most of a quarter of a second, more
than their whole query. So their stores write plain SQL (``?`` for each value) and read it through a
``Reader``: over a connection of its own (``read_database``), or over the driver connection inside a
SQLAlchemy transaction (``sa_reader``), so the web app and the console read with the very same SQL.

Values come back as the drivers give them; ``utc`` and ``flag`` make stored times and booleans the
same on both backends (SQLite keeps times as text without an offset); booleans come back from SQLite
as 0 and 1, so readers pass them through ``bool``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, overload

from digest.db.urls import DatabaseUnavailable, connection_problem, make_sqlite_folder, parse_url

if TYPE_CHECKING:
    from sqlalchemy import Connection

# How long a SQLite connection waits for the others before giving up; a poll's transactions last
# milliseconds, so this is only ever reached when something holds a transaction far too long.
SQLITE_BUSY_SECONDS = 60


class Reader:
    """Runs read-only SQL on one DB-API connection, inside the transaction its owner holds."""

    def __init__(self, connection: Any, backend: str) -> None:
        self.connection = connection
        self.backend = backend

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        cursor = self.connection.cursor()
        try:
            if not params:
                cursor.execute(sql)
            elif self.backend == "sqlite":
                cursor.execute(sql, tuple(params))
            else:
                cursor.execute(sql.replace("%", "%%").replace("?", "%s"), tuple(params))  # psycopg's placeholders
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def scalar(self, sql: str, params: Sequence[object] = ()) -> Any:
        """The first column of the first row; None when there is no row."""
        found = self.rows(sql, params)
        return found[0][0] if found else None

    def has_table(self, name: str) -> bool:
        if self.backend == "sqlite":
            return self.scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)) is not None
        return bool(self.scalar("SELECT to_regclass(?) IS NOT NULL", (name,)))


def marks(values: Sequence[object]) -> str:
    """The placeholders of an ``IN (...)`` list of these values."""
    return ", ".join("?" * len(values))


@overload
def utc(value: None) -> None: ...
@overload
def utc(value: datetime | str) -> datetime: ...
def utc(value: datetime | str | None) -> datetime | None:
    """A stored time as an aware UTC datetime (SQLite returns text without offset: it is UTC)."""
    if value is None:
        return None
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def sa_reader(connection: Connection) -> Reader:
    """A reader inside a SQLAlchemy connection's transaction (the web app's and the ORM stores')."""
    return Reader(connection.connection.driver_connection, connection.dialect.name)


def prepare_sqlite(connection: sqlite3.Connection) -> None:
    """Every SQLite connection's setup, the engine's and the reader's alike."""
    # The driver must not start transactions on its own (at the first write, silently committing
    # around some statements): whoever holds the connection begins each one.
    connection.isolation_level = None
    # WAL lets the web app read while a poll writes; foreign keys are off by default in SQLite.
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute("PRAGMA synchronous=NORMAL")


@contextmanager
def read_database(url: str) -> Iterator[Reader]:
    """One read-only transaction on its own connection; a database that cannot be reached is one
    clear message (``DatabaseUnavailable``)."""
    parsed = parse_url(url)
    if parsed.backend == "sqlite":
        with _sqlite(parsed.database or ":memory:", url) as reader:
            yield reader
        return
    import psycopg  # only when the database is PostgreSQL

    try:
        connection = psycopg.connect(parsed.libpq())
    except psycopg.Error as exc:
        raise DatabaseUnavailable(connection_problem(url, str(exc), type(exc).__name__)) from None
    try:
        connection.read_only = True
        yield Reader(connection, "postgresql")
    finally:
        connection.rollback()
        connection.close()


@contextmanager
def _sqlite(database: str, url: str) -> Iterator[Reader]:
    if database != ":memory:":
        make_sqlite_folder(database)
    try:
        connection = sqlite3.connect(database, timeout=SQLITE_BUSY_SECONDS)
    except sqlite3.Error as exc:
        raise DatabaseUnavailable(connection_problem(url, str(exc), type(exc).__name__)) from None
    try:
        try:
            prepare_sqlite(connection)
            connection.execute("PRAGMA query_only=ON")  # a reader: any write is refused, never half done
            # A plain BEGIN takes no write lock: writers go on beside this reader (WAL).
            connection.execute("BEGIN")
        except sqlite3.Error as exc:
            raise DatabaseUnavailable(connection_problem(url, str(exc), type(exc).__name__)) from None
        yield Reader(connection, "sqlite")
    finally:
        connection.rollback()
        connection.close()

"""Engines and explicit transactions.

Every unit of work runs inside ``with session_scope(engine) as session:``: it commits when the block
ends normally and rolls back on any exception, so a crash never leaves half a change behind.

SQLite is shared by every command started against one file (a poll from cron, an editor adding a
feed, the web app), so its connections are set up for several writers at once: WAL (readers never
wait for the writer), a busy timeout (a writer waits its turn instead of failing), and transactions
that take the write lock when they begin (``BEGIN IMMEDIATE``). Without the last, a transaction that
reads and then writes either reads outside its transaction (Python's sqlite3 starts it only at the
first write, so two pollers both see a story missing and both insert it), or, reading inside it,
cannot upgrade to a writer once another process has committed since its first read ("database is
locked", which no timeout cures). Long reads that other writers must not wait for say so with
``read_only=True``.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from digest.db import urls
from digest.db.light import SQLITE_BUSY_SECONDS, prepare_sqlite
from digest.db.urls import DatabaseUnavailable as DatabaseUnavailable  # raised here too: importable here
from digest.db.urls import make_sqlite_folder

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

_DEFERRED = "digest_sqlite_deferred"  # execution option: begin a plain (reading) SQLite transaction


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; for SQLite, make the file's folder and set up WAL, locking and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            make_sqlite_folder(parsed.database)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS}, **kwargs)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def check_connection(engine: Engine) -> None:
    """Connect once, so an unreachable or missing database is one clear message, not a traceback."""
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        raise DatabaseUnavailable(connection_problem(engine, exc)) from None


def connection_problem(engine: Engine, exc: DBAPIError) -> str:
    """What went wrong connecting, in words; the driver's own text only when nothing better is known."""
    url = engine.url.render_as_string(hide_password=False)
    return urls.connection_problem(url, str(exc.orig), type(exc.orig).__name__)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    prepare_sqlite(dbapi_connection)  # _sqlite_begin starts every transaction, at the first statement


def _sqlite_begin(connection: Connection) -> None:
    deferred = connection.get_execution_options().get(_DEFERRED, False)
    connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


class _Turns:
    """Writers of one process queue on a thread lock, and processes on an ``flock`` of a file beside
    the database: a waiter is woken the moment the writer before it is done."""

    def __init__(self, path: str) -> None:
        self.lock = threading.Lock()
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self.lock:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self.fd, fcntl.LOCK_UN)


_turns: dict[str, _Turns] = {}
_turns_lock = threading.Lock()


def writer_turn(engine: Engine) -> AbstractContextManager[None]:
    """Wait for this writer's turn, for many short write transactions in a row (a send's bookkeeping).

    SQLite lets one writer in at a time, and a writer that finds the lock taken sleeps and looks
    again (1, 2, 5, 10 ms...), far longer than the millisecond-long transactions of a send take: with
    several connections and processes taking turns, most of the time went to those sleeps. Writers
    that take their turn here wait in line instead; others (the web app) still wait as before. On
    other databases (row locks) there is nothing to wait for.
    """
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return nullcontext()
    with _turns_lock:
        turns = _turns.get(database)
        if turns is None:
            turns = _turns[database] = _Turns(f"{database}-turn")
    return turns.turn()


def reading(engine: Engine) -> Engine:
    """The same engine, for transactions that only read: on SQLite they do not take the write lock."""
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{_DEFERRED: True})


@contextmanager
def session_scope(bind: Engine | Connection, *, read_only: bool = False) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any exception.

    On SQLite a transaction holds the write lock from its first statement, so a reader that writes
    later can never be refused. ``read_only`` transactions (streaming many rows while other
    transactions write beside them) do not, and must not write. ``bind`` is usually the engine; a
    connection held for many transactions in a row saves taking one from the pool for each.
    """
    from sqlalchemy.orm import Session  # the ORM only for commands that use it (see read_scope)

    if read_only and isinstance(bind, Engine):
        bind = reading(bind)
    session = Session(bind, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def read_scope(engine: Engine) -> Iterator[Connection]:
    """One transaction that only reads, with Core statements and no ORM.

    The light commands (lists, exports) read this way: loading the ORM and every model costs more
    than their whole query. On SQLite it does not take the write lock.
    """
    with reading(engine).begin() as connection:
        yield connection


def describe_url(url: str) -> str:
    """The database URL with any password hidden, for messages and logs."""
    return urls.describe_url(url)

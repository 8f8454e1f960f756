"""Named locks across processes, so a scheduled job runs in one worker at a time.

On PostgreSQL a session-level advisory lock is held on a connection of its own for the duration of
the job; other workers skip the job instead of waiting. A transaction-level lock serialises one kind
of transaction across workers. On SQLite there is nothing to do: writers queue for the database's
write lock (see digest.db.engine).
"""

from __future__ import annotations

import fcntl
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _key(name: str) -> int:
    return zlib.crc32(f"digest:{name}".encode())


@contextmanager
def try_lock(engine: Engine, name: str) -> Iterator[bool]:
    """Yields True when this process holds the lock ``name`` for the block, False when another does."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = _key(name)
    with engine.connect() as connection:
        got = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())
        try:
            yield got
        finally:
            if got:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            connection.commit()


@contextmanager
def hold_lock(engine: Engine, name: str) -> Iterator[None]:
    """Wait for the lock ``name`` and hold it for the block (PostgreSQL; a no-op on SQLite)."""
    if engine.dialect.name != "postgresql":
        yield
        return
    key = _key(name)
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            connection.commit()


def lock_for_transaction(session: Session, name: str) -> None:
    """Wait for the lock ``name``, held until the session's transaction ends (PostgreSQL).

    On SQLite every writing transaction already holds the database's one write lock from its start.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _key(name)})


@contextmanager
def try_exclusive(engine: Engine, name: str) -> Iterator[bool]:
    """Like ``try_lock``, but on SQLite too: a lock on a file beside the database file, for work that
    must not run twice at once on any database (fetching one mailbox)."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        with try_lock(engine, name) as got:
            yield got
        return
    with open(Path(database).with_name(f"{Path(database).name}.{name}.lock"), "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

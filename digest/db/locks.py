"""Named locks across processes, so a scheduled job runs in one worker at a time.

On PostgreSQL a session-level advisory lock is held on a connection of its own for the duration of
the job; other workers skip the job instead of waiting. SQLite is the single-process default: there
is nobody to exclude.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text


@contextmanager
def try_lock(engine: Engine, name: str) -> Iterator[bool]:
    """Yields True when this process holds the lock ``name`` for the block, False when another does."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = zlib.crc32(f"digest:{name}".encode())
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
    key = zlib.crc32(f"digest:{name}".encode())
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            connection.commit()

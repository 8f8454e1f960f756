"""Named locks: on PostgreSQL a job held by one worker is skipped by the others."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from digest.db.engine import make_engine
from digest.db.locks import try_lock


def test_a_held_lock_is_refused_to_other_workers(engine: Engine, database_url: str) -> None:
    if engine.dialect.name != "postgresql":
        with try_lock(engine, "poll") as mine:
            assert mine  # SQLite runs one process: there is nobody to exclude
        pytest.skip("advisory locks are a PostgreSQL feature")
    other_worker = make_engine(database_url)  # a second process would have its own connections
    try:
        with try_lock(engine, "poll") as first:
            assert first
            with try_lock(other_worker, "poll") as second:
                assert not second
            with try_lock(other_worker, "send") as different:
                assert different  # other jobs are not held up
        with try_lock(other_worker, "poll") as after:
            assert after  # released when the first worker finished
    finally:
        other_worker.dispose()

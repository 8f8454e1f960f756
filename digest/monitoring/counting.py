"""Counting work as it happens, in the database: each scheduler job's runs and each poll's outcomes.

Every process (the scheduler, ``digest poll``) adds to the same rows, so /metrics shows the whole
service's work, not one process's.
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from sqlalchemy import Engine

from digest.db.engine import session_scope
from digest.monitoring import store


def record_polls(engine: Engine, outcomes: Iterable[str]) -> None:
    """Add one poll's feed outcomes (ok, not-modified, error, gone) to the counters."""
    with session_scope(engine) as session:
        store.count_polls(session, Counter(outcomes))


def counted(job: str, engine_of: Callable[[], Engine]) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Record each run of the job (its outcome and duration), whatever happens in it."""

    def wrap(function: Callable[[], None]) -> Callable[[], None]:
        @functools.wraps(function)
        def run() -> None:
            started, clock, outcome = datetime.now(UTC), time.monotonic(), "error"
            try:
                function()
                outcome = "ok"
            finally:
                with session_scope(engine_of()) as session:
                    store.record_job_run(session, job, outcome, started, time.monotonic() - clock)

        return run

    return wrap

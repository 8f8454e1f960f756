"""All SQL of monitoring: job-run and poll counters (added to atomically), and the optional tables
of other domains read guardedly."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import column as sql_column
from sqlalchemy import func, inspect, select, table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from digest.monitoring.models import FeedPollOutcome, JobRun

# Bounces and complaints, once their tables exist: a table whose name starts with this, counted by
# the first of these columns it has (a complaint is one of its kinds). Until then no metric is shown.
BOUNCE_TABLE_PREFIX = "bounce"
BOUNCE_KIND_COLUMNS = ("kind", "classification", "category", "type")


@dataclass(frozen=True, slots=True)
class JobStats:
    job: str
    outcome: str
    runs: int
    seconds: float
    last_started_at: datetime
    last_seconds: float


def _insert(session: Session) -> Any:
    """The INSERT with ON CONFLICT of the session's database (PostgreSQL's or SQLite's)."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def record_job_run(session: Session, job: str, outcome: str, started: datetime, seconds: float) -> None:
    """Add one run to the job's counters (an upsert, so concurrent workers never lose a run)."""
    statement = _insert(session)(JobRun).values(
        job=job, outcome=outcome, runs=1, seconds=seconds, last_started_at=started, last_seconds=seconds
    )
    statement = statement.on_conflict_do_update(
        index_elements=["job", "outcome"],
        set_={
            "runs": JobRun.runs + 1,
            "seconds": JobRun.seconds + seconds,
            "last_started_at": started,
            "last_seconds": seconds,
        },
    )
    session.execute(statement)


def count_polls(session: Session, outcomes: Mapping[str, int]) -> None:
    for outcome, n in sorted(outcomes.items()):
        if n <= 0:
            continue
        statement = _insert(session)(FeedPollOutcome).values(outcome=outcome, polls=n)
        session.execute(
            statement.on_conflict_do_update(index_elements=["outcome"], set_={"polls": FeedPollOutcome.polls + n})
        )


def job_stats(session: Session) -> list[JobStats]:
    rows = session.scalars(select(JobRun).order_by(JobRun.job, JobRun.outcome))
    return [JobStats(r.job, r.outcome, r.runs, r.seconds, r.last_started_at, r.last_seconds) for r in rows]


def poll_counts(session: Session) -> dict[str, int]:
    return {r.outcome: r.polls for r in session.scalars(select(FeedPollOutcome))}


def bounce_counts(session: Session) -> dict[str, int] | None:
    """Bounces and complaints by kind, or None while no bounce table exists in this database."""
    connection = session.connection()
    inspector = inspect(connection)
    for name in sorted(inspector.get_table_names()):
        if not name.startswith(BOUNCE_TABLE_PREFIX):
            continue
        columns = {c["name"] for c in inspector.get_columns(name)}
        kind = next((c for c in BOUNCE_KIND_COLUMNS if c in columns), None)
        if kind is None:
            continue
        rows = table(name, sql_column(kind))
        query = select(rows.c[kind], func.count()).group_by(rows.c[kind])
        return {str(k): int(n) for k, n in session.execute(query)}
    return None

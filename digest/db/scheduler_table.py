"""The scheduler's job store table, declared here so that it, like every table, comes from a migration.

The columns are the ones APScheduler 3's SQLAlchemyJobStore expects; it finds the table made and
leaves it alone.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, LargeBinary, Table, Unicode

from digest.db.base import Base

SCHEDULER_TABLE = "scheduler_jobs"

scheduler_jobs = Table(
    SCHEDULER_TABLE,
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)

"""Counters kept in the database, so every process (web, scheduler, CLI) adds to the same numbers
and the web's /metrics reads them at scrape time, whichever process did the work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from digest.db.base import Base, UTCDateTime


class JobRun(Base):
    """Runs of one scheduler job with one outcome ("ok" or "error"): how many, and how long in all."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(32), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)
    runs: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)
    last_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seconds: Mapped[float] = mapped_column(Float)


class FeedPollOutcome(Base):
    """Feed fetches by outcome (ok, not-modified, error, gone), from the scheduler and ``digest poll``."""

    __tablename__ = "feed_poll_outcomes"

    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)
    polls: Mapped[int] = mapped_column(Integer)

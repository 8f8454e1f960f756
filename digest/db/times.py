"""Stored times as people and other tools read them; no database library needed.

Kept apart from the column types (digest.db.types, SQLAlchemy) so the JSON shapes the light commands
print (digest.feeds.views and the light stores) are made without loading SQLAlchemy.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(when: datetime | None) -> str | None:
    """A stored time for JSON output: ISO 8601 to the second, with its UTC offset."""
    return when.isoformat(timespec="seconds") if when else None

"""Editions: a local day for daily subscribers, an ISO week for weekly ones, in the configured zone.

Names: "daily:2026-12-01" and "weekly:2026-W49" inside (the deliveries' edition column); people and
the command line may write just "2026-12-01" or "2026-W49". ``Desk`` is what editors decided for
one edition, in the form rendering needs it: the lead, the notes and the excluded stories.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_DAILY = re.compile(r"^(?:daily:)?(\d{4}-\d{2}-\d{2})$")
_WEEKLY = re.compile(r"^(?:weekly:)?(\d{4})-W(\d{2})$")


class BadEditionName(ValueError):
    """Not the name of an edition; the message says what one looks like."""


def edition_for(frequency: str, now: datetime, timezone: str) -> str:
    local = now.astimezone(ZoneInfo(timezone))
    if frequency == "daily":
        return f"daily:{local.date().isoformat()}"
    year, week, _day = local.isocalendar()
    return f"weekly:{year}-W{week:02d}"


def edition_label(edition: str) -> str:
    """For people: "daily:2026-11-24" -> "24 November 2026", "weekly:2026-W48" -> "week 48, 2026"."""
    kind, _, value = edition.partition(":")
    if kind == "daily":
        return datetime.fromisoformat(value).strftime("%-d %B %Y")
    year, _, week = value.partition("-W")
    return f"week {int(week)}, {year}"


def parse_edition(name: str) -> str:
    """ "2026-12-01", "daily:2026-12-01", "2026-W49" or "weekly:2026-W49" -> the stored key."""
    text = name.strip()
    if match := _DAILY.match(text):
        try:
            date.fromisoformat(match.group(1))
        except ValueError:
            raise BadEditionName(f"'{name}' is not a date: a daily edition is named like 2026-12-01") from None
        return f"daily:{match.group(1)}"
    if match := _WEEKLY.match(text):
        year, week = int(match.group(1)), int(match.group(2))
        try:
            date.fromisocalendar(year, week, 1)
        except ValueError:
            raise BadEditionName(f"'{name}': {year} has no ISO week {week}") from None
        return f"weekly:{year}-W{week:02d}"
    raise BadEditionName(f"'{name}' is not an edition: name a daily one like 2026-12-01 and a weekly one like 2026-W49")


def frequency_of(key: str) -> str:
    return key.partition(":")[0]


def short_name(key: str) -> str:
    """What people type: "daily:2026-12-01" -> "2026-12-01"."""
    return key.partition(":")[2]


def next_edition(key: str) -> str:
    """The edition after this one, of the same frequency."""
    kind, _, value = key.partition(":")
    if kind == "daily":
        return f"daily:{(date.fromisoformat(value) + timedelta(days=1)).isoformat()}"
    year, _, week = value.partition("-W")
    monday = date.fromisocalendar(int(year), int(week), 1) + timedelta(days=7)
    next_year, next_week, _day = monday.isocalendar()
    return f"weekly:{next_year}-W{next_week:02d}"


def review_deadline(planned_at: datetime, deadline: str, timezone: str) -> datetime:
    """The first time at or after planning when the local clock shows ``deadline`` ("10:00")."""
    zone = ZoneInfo(timezone)
    local = planned_at.astimezone(zone)
    hour, minute = (int(part) for part in deadline.split(":"))
    when = datetime.combine(local.date(), time(hour, minute), tzinfo=zone)
    if when < local:
        when = datetime.combine(local.date() + timedelta(days=1), time(hour, minute), tzinfo=zone)
    return when


@dataclass(frozen=True, slots=True)
class Desk:
    """Editors' decisions for one edition, as rendering and selection use them."""

    key: str
    version: int = 0
    lead: int | None = None
    excluded: frozenset[int] = frozenset()
    notes: dict[str, str] = field(default_factory=dict)  # topic ("" for the whole edition) -> Markdown

    @property
    def edition_note(self) -> str:
        return self.notes.get("", "")

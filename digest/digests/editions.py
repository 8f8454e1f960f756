"""Editions: a local day for daily subscribers, an ISO week for weekly ones, in the configured zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


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

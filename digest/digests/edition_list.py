"""The list of editions (``digest editions list`` and the console's Editions page), read with Core only.

The current editions are listed even before anyone opened them, with every stored one, newest first,
and their deliveries by state. The command must answer at once, so the columns it reads are named in
light ``table()`` objects instead of loading the ORM and every model (the models stay the schema's
description; the migrations make it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Integer, String, func, select

from digest.config import Settings
from digest.db.types import UTCDateTime, iso, light_table
from digest.digests.editions import edition_for, edition_label, frequency_of, short_name

DELIVERY_STATES = ("queued", "sending", "sent", "failed", "cancelled", "empty")
_EDITIONS = light_table("editions", key=String, state=String, planned_at=UTCDateTime, lead_story_id=Integer)
_DELIVERIES = light_table("deliveries", edition=String, state=String)


def current_editions(settings: Settings, now: datetime) -> list[str]:
    return [edition_for(f, now, settings.digest.timezone) for f in ("daily", "weekly")]


def list_editions_view(
    connection: Connection, settings: Settings, now: datetime, limit: int = 60
) -> list[dict[str, Any]]:
    """The current editions (even before anyone opened them) and every stored one, newest first."""
    e, d = _EDITIONS.c, _DELIVERIES.c
    query = select(e.key, e.state, e.planned_at, e.lead_story_id).order_by(e.key.desc()).limit(limit)
    stored = {row.key: row for row in connection.execute(query)}
    keys = sorted(set(stored) | set(current_editions(settings, now)), key=lambda k: (short_name(k), k), reverse=True)
    counted = select(d.edition, d.state, func.count()).where(d.edition.in_(keys)).group_by(d.edition, d.state)
    counts: dict[str, dict[str, int]] = {}
    for key, state, n in connection.execute(counted):
        counts.setdefault(key, {})[state] = int(n)
    rows = []
    for key in keys:
        edition = stored.get(key)
        rows.append(
            {
                "edition": short_name(key),
                "key": key,
                "frequency": frequency_of(key),
                "label": edition_label(key),
                "state": edition.state if edition else "planned",
                "planned_at": iso(edition.planned_at) if edition else None,
                "lead": edition.lead_story_id if edition else None,
                "deliveries": {state: counts.get(key, {}).get(state, 0) for state in DELIVERY_STATES},
            }
        )
    return rows

"""The list of editions (``digest editions list`` and the console's Editions page), in plain SQL.

The current editions are listed even before anyone opened them, with every stored one, newest first,
and their deliveries by state. The command must answer at once, so it reads through the drivers
themselves (digest.db.light), without importing SQLAlchemy; the console runs the same SQL inside its
own transaction. The models stay the schema's description; the migrations make it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from digest.config import Settings
from digest.db.light import Reader, marks, utc
from digest.db.times import iso
from digest.digests.editions import edition_for, edition_label, frequency_of, short_name

DELIVERY_STATES = ("queued", "sending", "sent", "failed", "cancelled", "empty")


def current_editions(settings: Settings, now: datetime) -> list[str]:
    return [edition_for(f, now, settings.digest.timezone) for f in ("daily", "weekly")]


def list_editions_view(reader: Reader, settings: Settings, now: datetime, limit: int = 60) -> list[dict[str, Any]]:
    """The current editions (even before anyone opened them) and every stored one, newest first."""
    query = "SELECT key, state, planned_at, lead_story_id FROM editions ORDER BY key DESC LIMIT ?"
    stored = {row[0]: row for row in reader.rows(query, (limit,))}
    keys = sorted(set(stored) | set(current_editions(settings, now)), key=lambda k: (short_name(k), k), reverse=True)
    counted = (
        f"SELECT edition, state, count(*) FROM deliveries WHERE edition IN ({marks(keys)}) GROUP BY edition, state"
    )
    counts: dict[str, dict[str, int]] = {}
    for key, state, n in reader.rows(counted, keys):
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
                "state": edition[1] if edition else "planned",
                "planned_at": iso(utc(edition[2])) if edition else None,
                "lead": edition[3] if edition else None,
                "deliveries": {state: counts.get(key, {}).get(state, 0) for state in DELIVERY_STATES},
            }
        )
    return rows

"""The light reads of the feeds domain, in plain SQL: feed health, stories per topic.

``digest feeds list`` and ``digest topics`` must answer at once, and importing SQLAlchemy costs more
than their queries, so they read through the drivers themselves (digest.db.light); the web app runs
the same SQL inside its own transactions (``sa_reader``). The models in ``digest.feeds.models`` stay
the schema's description; the migrations make it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from digest.db.light import Reader, marks, utc

CARRIED = ("rule", "pinned")  # the origins of a topic a story carries ("removed": an editor took it off)


@dataclass(frozen=True, slots=True)
class FeedHealth:
    url: str
    title: str | None
    status: str
    error_count: int
    last_error: str | None
    last_polled_at: datetime | None
    next_poll_at: datetime
    stories: int  # how many stories it has contributed


_HEALTH = """
SELECT f.url, f.title, f.status, f.error_count, f.last_error, f.last_polled_at, f.next_poll_at, coalesce(n.n, 0)
FROM feeds AS f
LEFT OUTER JOIN (SELECT feed_id, count(*) AS n FROM story_sources GROUP BY feed_id) AS n ON n.feed_id = f.id
ORDER BY f.id
"""


def list_feed_health(reader: Reader) -> list[FeedHealth]:
    """Every feed with its poll state and the number of stories it has contributed, oldest first."""
    return [
        FeedHealth(url, title, status, int(errors), last_error, utc(polled), utc(due), int(n))
        for url, title, status, errors, last_error, polled, due, n in reader.rows(_HEALTH)
    ]


def count_by_topic(reader: Reader) -> dict[str, int]:
    """How many stories carry each topic."""
    query = f"SELECT topic, count(*) FROM story_topics WHERE origin IN ({marks(CARRIED)}) GROUP BY topic"
    return {topic: int(n) for topic, n in reader.rows(query, CARRIED)}

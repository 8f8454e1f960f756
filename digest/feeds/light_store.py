"""The light reads of the feeds domain, in Core statements only: feed health, stories per topic.

``digest feeds list`` and ``digest topics`` must answer at once, and loading the ORM with every model
costs more than their queries, so the columns they read are named here in light ``table()`` objects
(the models in ``digest.feeds.models`` stay the schema's description; the migrations make it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Integer, String, Text, func, select

from digest.db.types import UTCDateTime, light_table

_FEEDS = light_table(
    "feeds", id=Integer, url=String, title=String, status=String, error_count=Integer, last_error=Text,
    last_polled_at=UTCDateTime, next_poll_at=UTCDateTime,
)  # fmt: skip
_SOURCES = light_table("story_sources", feed_id=Integer)
_TOPICS = light_table("story_topics", topic=String, origin=String)
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


def list_feed_health(connection: Connection) -> list[FeedHealth]:
    """Every feed with its poll state and the number of stories it has contributed, oldest first."""
    counts = select(_SOURCES.c.feed_id, func.count().label("n")).group_by(_SOURCES.c.feed_id).subquery()
    f = _FEEDS.c
    query = (
        select(
            f.url, f.title, f.status, f.error_count, f.last_error, f.last_polled_at, f.next_poll_at,
            func.coalesce(counts.c.n, 0),
        )
        .outerjoin(counts, counts.c.feed_id == f.id)
        .order_by(f.id)
    )  # fmt: skip
    return [FeedHealth(*row[:7], stories=int(row[7])) for row in connection.execute(query)]


def count_by_topic(connection: Connection) -> dict[str, int]:
    """How many stories carry each topic."""
    query = select(_TOPICS.c.topic, func.count()).where(_TOPICS.c.origin.in_(CARRIED)).group_by(_TOPICS.c.topic)
    return {topic: int(n) for topic, n in connection.execute(query)}

"""The SQL of ``digest stories list``: the newest stories with their topics and sources, in Core only.

The command must answer at once, and loading the ORM with every model costs more than its queries,
so the columns it reads are named here in light ``table()`` objects (the models in
``digest.feeds.models`` stay the schema's description; the migrations make it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Boolean, Connection, Integer, String, Text, select

from digest.db.types import UTCDateTime, light_table
from digest.feeds.light_store import CARRIED

_STORIES = light_table(
    "stories", id=Integer, link=String, title=String, author=String, published_at=UTCDateTime,
    published_guessed=Boolean, first_seen_at=UTCDateTime, summary_text=Text,
)  # fmt: skip
_SOURCES = light_table("story_sources", id=Integer, story_id=Integer, feed_id=Integer, guid=String, link=String)
_FEEDS = light_table("feeds", id=Integer, url=String, title=String)
_TOPICS = light_table("story_topics", story_id=Integer, topic=String, origin=String, why=Text)
_CHUNK = 500  # keeps IN (...) lists well under every backend's parameter limit


@dataclass(frozen=True, slots=True)
class SourceListing:
    feed_url: str
    feed_title: str | None
    guid: str | None
    link: str | None


@dataclass(slots=True)
class StoryListing:
    id: int
    title: str
    link: str | None
    author: str | None
    published_at: datetime
    published_guessed: bool
    first_seen_at: datetime
    summary_text: str
    sources: list[SourceListing] = field(default_factory=list)
    why: dict[str, list[str]] = field(default_factory=dict)  # topic carried -> the phrases behind it


def list_story_listings(connection: Connection, *, limit: int = 50, topic: str | None = None) -> list[StoryListing]:
    """Newest stories first (only those carrying ``topic``), each with its sources and topics."""
    s = _STORIES.c
    query = select(
        s.id, s.title, s.link, s.author, s.published_at, s.published_guessed, s.first_seen_at, s.summary_text
    ).order_by(s.published_at.desc(), s.id.desc())
    if topic is not None:
        t = _TOPICS.c
        query = query.where(s.id.in_(select(t.story_id).where(t.topic == topic, t.origin.in_(CARRIED))))
    stories = {row[0]: StoryListing(*row) for row in connection.execute(query.limit(limit))}
    ids = list(stories)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        c, f = _SOURCES.c, _FEEDS.c
        sources = (
            select(c.story_id, f.url, f.title, c.guid, c.link)
            .join(_FEEDS, f.id == c.feed_id)
            .where(c.story_id.in_(chunk))
            .order_by(c.id)
        )
        for story_id, *source in connection.execute(sources):
            stories[story_id].sources.append(SourceListing(*source))
        t = _TOPICS.c
        topics = select(t.story_id, t.topic, t.why).where(t.story_id.in_(chunk), t.origin.in_(CARRIED))
        for story_id, name, why in connection.execute(topics.order_by(t.story_id, t.topic)):
            stories[story_id].why[name] = json.loads(why)
    return list(stories.values())

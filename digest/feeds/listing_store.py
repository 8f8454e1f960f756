"""The SQL of ``digest stories list``: the newest stories with their topics and sources, in plain SQL.

The command must answer at once, and importing SQLAlchemy costs more than its queries, so it reads
through the drivers themselves (digest.db.light); the demo runs the same SQL over an engine's
connection. The models in ``digest.feeds.models`` stay the schema's description; the migrations
make it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from digest.db.light import Reader, marks, utc
from digest.feeds.light_store import CARRIED

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


def list_story_listings(reader: Reader, *, limit: int = 50, topic: str | None = None) -> list[StoryListing]:
    """Newest stories first (only those carrying ``topic``), each with its sources and topics."""
    query = "SELECT id, title, link, author, published_at, published_guessed, first_seen_at, summary_text FROM stories"
    params: list[object] = []
    if topic is not None:
        query += f" WHERE id IN (SELECT story_id FROM story_topics WHERE topic = ? AND origin IN ({marks(CARRIED)}))"
        params += [topic, *CARRIED]
    stories = {
        row[0]: StoryListing(row[0], row[1], row[2], row[3], utc(row[4]), bool(row[5]), utc(row[6]), row[7])
        for row in reader.rows(f"{query} ORDER BY published_at DESC, id DESC LIMIT ?", [*params, limit])
    }
    ids = list(stories)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        sources = (
            "SELECT s.story_id, f.url, f.title, s.guid, s.link"
            " FROM story_sources AS s JOIN feeds AS f ON f.id = s.feed_id"
            f" WHERE s.story_id IN ({marks(chunk)}) ORDER BY s.id"
        )
        for story_id, *source in reader.rows(sources, chunk):
            stories[story_id].sources.append(SourceListing(*source))
        topics = (
            f"SELECT story_id, topic, why FROM story_topics WHERE story_id IN ({marks(chunk)})"
            f" AND origin IN ({marks(CARRIED)}) ORDER BY story_id, topic"
        )
        for story_id, name, why in reader.rows(topics, [*chunk, *CARRIED]):
            stories[story_id].why[name] = json.loads(why)
    return list(stories.values())

"""All SQL of the events domain: stories' events and threads, and editors' merges and splits."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Table, delete, exists, func, select, update
from sqlalchemy.orm import Session

from digest.db.bulk import insert_many
from digest.events.decisions import Decision, Membership
from digest.events.features import StoryFeatures, dump_features, load_features
from digest.events.grouping import Assignment, Known
from digest.events.models import EventDecision, StoryEvent
from digest.events.scoring import Story
from digest.feeds.models import Story as StoredStory
from digest.feeds.models import StorySource

_CHUNK = 500
_EVENTS: Table = StoryEvent.__table__  # type: ignore[assignment]
_STORIES: Table = StoredStory.__table__  # type: ignore[assignment]
_SOURCES: Table = StorySource.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class GroupedStory:
    id: int
    title: str
    published: datetime
    membership: Membership
    # The reasons as stored (JSON): a page of events shows a few hundred of a window's 50,000
    # stories, so each list is read only when it is shown.
    why_json: str = "[]"

    @property
    def why(self) -> list[dict[str, object]]:
        reasons: list[dict[str, object]] = json.loads(self.why_json)
        return reasons


def _story(story_id: int, title: str, summary: str | None, published: datetime, feed: int | None) -> Story:
    return Story(str(story_id), title, summary or "", published, "" if feed is None else str(feed))


def known_since(session: Session, since: datetime) -> list[Known]:
    """Grouped stories published since ``since``: the window new stories are compared with, each
    with its kept features (None where there are none yet)."""
    query = (
        select(
            StoredStory.id,
            StoredStory.title,
            StoredStory.summary_text,
            StoredStory.published_at,
            StoryEvent.event_key,
            StoryEvent.thread_key,
            StoryEvent.features,
        )
        .join(StoryEvent, StoryEvent.story_id == StoredStory.id)
        .where(StoredStory.published_at >= since)
    )
    feeds = _first_feeds(session, StoredStory.published_at >= since)
    return [
        Known(_story(sid, title, summary, published, feeds.get(sid)), event, thread, load_features(features))
        for sid, title, summary, published, event, thread, features in session.execute(query)
    ]


def _first_feeds(session: Session, *conditions: ColumnElement[bool]) -> dict[int, int]:
    """The feed that first carried each story that meets ``conditions`` (a story two feeds carry is
    stored once; the first is the feed a poll grouped it by), read in one pass over their sources:
    a subquery per story made PostgreSQL's read of a window a third slower."""
    sources = _SOURCES.c
    query = (
        select(sources.story_id, sources.feed_id)
        .join(_STORIES, _STORIES.c.id == sources.story_id)
        .where(*conditions)
        .order_by(sources.id.desc())
    )
    # Later rows are overwritten by earlier ones: the first source of each story is what is left.
    return {story: feed for story, feed in session.execute(query)}


def keep_features(session: Session, features: Mapping[int, StoryFeatures]) -> None:
    """Keep these grouped stories' features (story id -> features) for later polls."""
    rows = [{"story_id": sid, "features": dump_features(f)} for sid, f in features.items()]
    for start in range(0, len(rows), _CHUNK):
        session.execute(update(StoryEvent), rows[start : start + _CHUNK])


def ungrouped(
    session: Session, story_ids: Iterable[int] | None = None, *, since: datetime | None = None
) -> list[Story]:
    """Stories without an event yet: these ids, or every one published since ``since``."""
    stories = _STORIES.c
    conditions = [~exists().where(_EVENTS.c.story_id == stories.id)]
    if since is not None:
        conditions.append(stories.published_at >= since)
    if story_ids is None:
        return _read_stories(session, conditions)
    ids = sorted(set(story_ids))
    found: list[Story] = []
    for start in range(0, len(ids), _CHUNK):
        found.extend(_read_stories(session, [*conditions, stories.id.in_(ids[start : start + _CHUNK])]))
    return found


def _read_stories(session: Session, conditions: list[ColumnElement[bool]]) -> list[Story]:
    # Only the columns grouping reads, as plain rows: a poll's new stories carry their whole
    # content, which ORM objects would load and track for nothing.
    stories = _STORIES.c
    query = select(stories.id, stories.title, stories.summary_text, stories.published_at).where(*conditions)
    feeds = _first_feeds(session, *conditions)
    return [_story(*row, feeds.get(row[0])) for row in session.execute(query)]


def save_assignments(
    session: Session, assignments: Sequence[Assignment], now: datetime, *, replacing: bool = True
) -> None:
    """Store where grouping put each story, replacing an earlier grouping of the same stories
    (``replacing=False``: the stories were never grouped)."""
    ids = [int(a.key) for a in assignments] if replacing else []
    for start in range(0, len(ids), _CHUNK):
        session.execute(delete(_EVENTS).where(_EVENTS.c.story_id.in_(ids[start : start + _CHUNK])))
    # Plain rows in bulk (COPY on PostgreSQL): a poll groups thousands of stories at once, and ORM
    # objects cost more than the grouping itself.
    rows = [
        {
            "story_id": int(a.key),
            "event_key": a.event,
            "thread_key": a.thread,
            "why": json.dumps(a.why, ensure_ascii=False),
            "features": dump_features(a.features) if a.features else None,
            "grouped_at": now,
        }
        for a in assignments
    ]
    insert_many(session, _EVENTS, rows)


def forget_since(session: Session, since: datetime) -> int:
    """Drop the automatic grouping of stories published since ``since`` (before grouping them again)."""
    ids = select(StoredStory.id).where(StoredStory.published_at >= since)
    result = session.execute(delete(StoryEvent).where(StoryEvent.story_id.in_(ids)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def grouped_since(session: Session, since: datetime) -> list[GroupedStory]:
    """Grouped stories published since ``since``, oldest first, as grouping left them."""
    query = (
        # Columns, not StoryEvent objects: the kept features are large and not needed here.
        select(
            StoredStory.id,
            StoredStory.title,
            StoredStory.published_at,
            StoryEvent.event_key,
            StoryEvent.thread_key,
            StoryEvent.why,
        )
        .join(StoryEvent, StoryEvent.story_id == StoredStory.id)
        .where(StoredStory.published_at >= since)
        .order_by(StoredStory.published_at, StoredStory.id)
    )
    return [
        GroupedStory(sid, title, published, Membership(event, thread), why)
        for sid, title, published, event, thread, why in session.execute(query)
    ]


def is_grouped(session: Session, story_id: int) -> bool:
    return session.get(StoryEvent, story_id) is not None


def story_exists(session: Session, story_id: int) -> bool:
    return session.scalar(select(func.count()).select_from(StoredStory).where(StoredStory.id == story_id)) == 1


def add_decision(
    session: Session, kind: str, level: str, story_id: int, other_story_id: int | None, now: datetime
) -> None:
    session.add(EventDecision(kind=kind, level=level, story_id=story_id, other_story_id=other_story_id, created_at=now))
    session.flush()


def decisions(session: Session) -> list[Decision]:
    """Editors' decisions in the order they were made."""
    query = select(EventDecision).order_by(EventDecision.created_at, EventDecision.id)
    return [Decision(d.kind, d.level, d.story_id, d.other_story_id) for d in session.scalars(query)]


def memberships(session: Session, story_ids: Sequence[int]) -> dict[int, Membership]:
    """The event and thread of each of these stories that is grouped."""
    found: dict[int, Membership] = {}
    ids = list(story_ids)
    for start in range(0, len(ids), _CHUNK):
        query = select(StoryEvent.story_id, StoryEvent.event_key, StoryEvent.thread_key).where(
            StoryEvent.story_id.in_(ids[start : start + _CHUNK])
        )
        found.update((sid, Membership(event, thread)) for sid, event, thread in session.execute(query))
    return found


def memberships_with_named(session: Session, story_ids: Iterable[int]) -> dict[int, Membership]:
    """How grouping left these stories and the stories editors' decisions name: enough to apply the
    decisions to these stories (each decision moves stories by what the stories it names are in)."""
    return memberships(session, sorted(set(story_ids) | _named(session)))


def _named(session: Session) -> set[int]:
    named = select(EventDecision.story_id).union(
        select(EventDecision.other_story_id).where(EventDecision.other_story_id.is_not(None))
    )
    return {int(i) for i in session.scalars(named)}


def memberships_around(session: Session, story_ids: Iterable[int]) -> dict[int, Membership]:
    """How grouping left these stories, the stories editors' decisions name, and every story sharing
    an event or a thread with any of them: what the whole of their threads needs."""
    ids = sorted(set(story_ids) | _named(session))
    keys: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        query = select(StoryEvent.event_key, StoryEvent.thread_key).where(
            StoryEvent.story_id.in_(ids[start : start + _CHUNK])
        )
        for event, thread in session.execute(query):
            keys.update((event, thread))
    found: dict[int, Membership] = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), _CHUNK):
        part = ordered[start : start + _CHUNK]
        rows = select(StoryEvent.story_id, StoryEvent.event_key, StoryEvent.thread_key).where(
            StoryEvent.event_key.in_(part) | StoryEvent.thread_key.in_(part)
        )
        found.update((sid, Membership(event, thread)) for sid, event, thread in session.execute(rows))
    return found


def headlines(session: Session) -> dict[int, int]:
    """Stories editors chose as their event's headline, with the order they were chosen (later: higher)."""
    query = select(EventDecision.story_id).where(EventDecision.kind == "headline").order_by(EventDecision.id)
    return {sid: rank for rank, sid in enumerate(session.scalars(query), start=1)}


@dataclass(frozen=True, slots=True)
class StoryHead:
    id: int
    title: str
    link: str | None
    published: datetime


def heads(session: Session, story_ids: Iterable[int]) -> list[StoryHead]:
    """Headline, link and publication time of these stories, oldest first."""
    ids = sorted(set(story_ids))
    found: list[StoryHead] = []
    for start in range(0, len(ids), _CHUNK):
        query = select(StoredStory.id, StoredStory.title, StoredStory.link, StoredStory.published_at).where(
            StoredStory.id.in_(ids[start : start + _CHUNK])
        )
        found.extend(StoryHead(*row) for row in session.execute(query))
    return sorted(found, key=lambda h: (h.published, h.id))

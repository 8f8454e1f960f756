"""SQL for reading stories back: newest first, by topic, by first-seen window, with their sources;
and the editors' search (words, topic or none, feed, date range, a page at a time)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from digest.feeds import topic_store
from digest.feeds.models import Feed, Story, StorySource, StoryTopic

T = TypeVar("T")
NO_TOPIC = "-"  # the topic filter's value for stories without any topic


@dataclass(frozen=True, slots=True)
class StoryQuery:
    """What an editor looks for: every word in the title or summary, a topic (or NO_TOPIC), a feed,
    published in [since, until), one page of ``limit`` stories after ``offset``."""

    words: Sequence[str] = ()
    topic: str | None = None
    feed_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    offset: int = 0
    limit: int = 20


def list_stories(
    session: Session, *, limit: int = 50, story_ids: Iterable[int] | None = None, topic: str | None = None
) -> list[Story]:
    """Newest stories first (only those carrying ``topic``), with their sources and feeds loaded."""
    query = (
        select(Story)
        .options(selectinload(Story.sources).selectinload(StorySource.feed))
        .order_by(Story.published_at.desc(), Story.id.desc())
        .limit(limit)
    )
    if story_ids is not None:
        query = query.where(Story.id.in_(list(story_ids)))
    if topic is not None:
        query = query.where(Story.id.in_(topic_store.story_ids_with_topic(topic)))
    return list(session.scalars(query))


def search_stories(session: Session, query: StoryQuery) -> tuple[list[Story], int]:
    """One page of the stories matching ``query``, newest first, and how many match in all."""
    matching = _filtered(select(Story.id), query)
    total = session.scalar(select(func.count()).select_from(matching.subquery())) or 0
    page = (
        _filtered(select(Story), query)
        .options(selectinload(Story.sources).selectinload(StorySource.feed))
        .order_by(Story.published_at.desc(), Story.id.desc())
        .offset(query.offset)
        .limit(query.limit)
    )
    return list(session.scalars(page)), int(total)


def _filtered(statement: Select[T], query: StoryQuery) -> Select[T]:
    for word in query.words:
        # A word matches inside the title or the plain summary, regardless of case.
        pattern = "%" + word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(
            or_(
                func.lower(Story.title).like(pattern, escape="\\"),
                func.lower(Story.summary_text).like(pattern, escape="\\"),
            )
        )
    if query.topic == NO_TOPIC:
        carried = select(StoryTopic.story_id).where(StoryTopic.origin.in_(topic_store.CARRIED))
        statement = statement.where(Story.id.not_in(carried))
    elif query.topic is not None:
        statement = statement.where(Story.id.in_(topic_store.story_ids_with_topic(query.topic)))
    if query.feed_id is not None:
        statement = statement.where(
            Story.id.in_(select(StorySource.story_id).where(StorySource.feed_id == query.feed_id))
        )
    if query.since is not None:
        statement = statement.where(Story.published_at >= query.since)
    if query.until is not None:
        statement = statement.where(Story.published_at < query.until)
    return statement


@dataclass(frozen=True, slots=True)
class StoryRow:
    """What a digest shows of a story, read as plain columns (no ORM objects, no full content)."""

    id: int
    title: str
    link: str | None
    summary_text: str
    published_at: datetime
    first_seen_at: datetime
    sources: tuple[str, ...]  # its feeds' names (title, else address), first source first


def story_rows(
    session: Session,
    *,
    first_seen: tuple[datetime, datetime] | None = None,
    story_ids: Iterable[int] | None = None,
) -> list[StoryRow]:
    """Stories first seen in (since, until] of ``first_seen``, or those of ``story_ids``, with their
    sources' names. Two queries whatever the count: planning an edition reads every candidate."""
    if first_seen is not None:
        since, until = first_seen
        chosen: Select[int] = select(Story.id).where(Story.first_seen_at > since, Story.first_seen_at <= until)
    else:
        chosen = select(Story.id).where(Story.id.in_(list(story_ids or ())))
    names: dict[int, list[str]] = {}
    sources = (
        select(StorySource.story_id, Feed.title, Feed.url)
        .join(Feed, Feed.id == StorySource.feed_id)
        .where(StorySource.story_id.in_(chosen))
        .order_by(StorySource.id)
    )
    for story_id, title, url in session.execute(sources):
        names.setdefault(story_id, []).append(title or url)
    columns = select(
        Story.id, Story.title, Story.link, Story.summary_text, Story.published_at, Story.first_seen_at
    ).where(Story.id.in_(chosen))
    return [
        StoryRow(sid, title, link, summary, published, seen, tuple(dict.fromkeys(names.get(sid, ()))))
        for sid, title, link, summary, published, seen in session.execute(columns)
    ]


def count_stories(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Story)) or 0


def stories_page(
    session: Session,
    *,
    limit: int,
    topic: str | None = None,
    since: datetime | None = None,
    before: tuple[datetime, int] | None = None,
) -> list[Story]:
    """Newest first by (published, id), only those after the keyset ``before`` (the last row of the
    previous page): a page never repeats or skips a story, however many arrive in between."""
    query = (
        select(Story)
        .options(selectinload(Story.sources).selectinload(StorySource.feed))
        .order_by(Story.published_at.desc(), Story.id.desc())
        .limit(limit)
    )
    if topic is not None:
        query = query.where(Story.id.in_(topic_store.story_ids_with_topic(topic)))
    if since is not None:
        query = query.where(Story.published_at >= since)
    if before is not None:
        published, story_id = before
        query = query.where(
            or_(Story.published_at < published, (Story.published_at == published) & (Story.id < story_id))
        )
    return list(session.scalars(query))

"""SQL for reading stories back: newest first, by topic, by first-seen window, with their sources."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from digest.feeds import topic_store
from digest.feeds.models import Story, StorySource


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


def stories_first_seen_between(session: Session, since: datetime, until: datetime) -> list[Story]:
    """Stories first seen in (since, until], with their sources and feeds loaded."""
    query = (
        select(Story)
        .options(selectinload(Story.sources).selectinload(StorySource.feed))
        .where(Story.first_seen_at > since, Story.first_seen_at <= until)
        .order_by(Story.id)
    )
    return list(session.scalars(query))


def count_stories(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Story)) or 0

"""Tables of the events domain: which event and thread each story is in, and editors' corrections.

Grouping writes one row per story (its event and thread key, and why it joined). Editors' merges and
splits are kept in a table of their own and applied on top of every grouping, the way topic pins are
kept apart from the tagger's results, so re-grouping never undoes a correction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from digest.db.base import Base, UTCDateTime, utcnow

DECISION_KINDS = ("merge", "split", "headline")
LEVELS = ("event", "thread")


class StoryEvent(Base):
    __tablename__ = "story_events"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    # "e:<id of the event's first story>", "t:<id of the thread's first story>".
    event_key: Mapped[str] = mapped_column(String(64))
    thread_key: Mapped[str] = mapped_column(String(64))
    # JSON list of reasons: the story matched, the score, shared names, numbers and phrases.
    why: Mapped[str] = mapped_column(Text, default="[]")
    # What grouping compares in the story (events.features.dump_features), kept so that each poll
    # reads the window's features instead of extracting them again; empty until first needed.
    features: Mapped[str | None] = mapped_column(Text)
    grouped_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_story_events_event_key", "event_key"),
        Index("ix_story_events_thread_key", "thread_key"),
    )


class EventDecision(Base):
    """One editor's correction: merge the event (thread) of ``story_id`` with that of ``other_story_id``,
    or split ``story_id`` out of its event (its event out of its thread)."""

    __tablename__ = "event_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    level: Mapped[str] = mapped_column(String(8))
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    other_story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

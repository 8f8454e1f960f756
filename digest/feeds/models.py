"""Tables of the feeds domain: the feeds polled, the stories found, and where each story came from.

A story is one piece of news, however many feeds carry it; a story source is one feed's entry for it,
keeping the raw guid and the feed so every story can say where it came from.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from digest.db.base import Base, UTCDateTime, utcnow

# Feed statuses: "new" (never polled), "ok", "error" (last poll failed, will retry with backoff),
# "disabled" (the publisher answered 410 Gone), "paused" (an editor stopped it).
FEED_STATUSES = ("new", "ok", "error", "disabled", "paused")


class Feed(Base):
    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    title: Mapped[str | None] = mapped_column(String(500))
    site_url: Mapped[str | None] = mapped_column(String(2048))
    status: Mapped[str] = mapped_column(String(16), default="new")
    interval_minutes: Mapped[int | None] = mapped_column(Integer)
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_poll_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_feeds_next_poll_at", "next_poll_at"),)


class Story(Base):
    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Canonical link (tracking parameters and fragments removed); the key that merges the same story
    # arriving from several feeds. Not unique: one feed may carry several entries behind one link
    # (a court docket lists each filing under the case's page). Entries without a usable link have none.
    link: Mapped[str | None] = mapped_column(String(2048), index=True)
    title: Mapped[str] = mapped_column(String(2000))
    author: Mapped[str | None] = mapped_column(String(500))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # True when the feed gave no usable date and published_at is the time the story was first seen.
    published_guessed: Mapped[bool] = mapped_column(default=False)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    summary_text: Mapped[str] = mapped_column(Text, default="")
    summary_html: Mapped[str] = mapped_column(Text, default="")
    content_html: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64))

    sources: Mapped[list[StorySource]] = relationship(back_populates="story", cascade="all, delete-orphan")
    topics: Mapped[list[StoryTopic]] = relationship(cascade="all, delete-orphan")

    __table_args__ = (Index("ix_stories_first_seen_at", "first_seen_at"),)


class StorySource(Base):
    __tablename__ = "story_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    # What identifies this entry within its feed: "guid:<guid>", "link:<link>" or "hash:<sha256>".
    dedup_key: Mapped[str] = mapped_column(String(2100))
    guid: Mapped[str | None] = mapped_column(String(2048))
    link: Mapped[str | None] = mapped_column(String(2048))
    # This feed's version of the story: a story carried by two feeds changes only when one of them
    # changes its entry, instead of flipping between the two versions on every poll.
    content_hash: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    story: Mapped[Story] = relationship(back_populates="sources")
    feed: Mapped[Feed] = relationship()

    __table_args__ = (UniqueConstraint("feed_id", "dedup_key"),)


# Where a story's topic came from: "rule" (the tagger), "pinned" (an editor added it) or "removed" (an
# editor took it away). Editors' decisions are never overwritten by re-tagging.
TOPIC_ORIGINS = ("rule", "pinned", "removed")


class StoryTopic(Base):
    __tablename__ = "story_topics"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), primary_key=True)
    origin: Mapped[str] = mapped_column(String(8))
    # JSON list of the phrases that matched, shown to editors and readers as the reason.
    why: Mapped[str] = mapped_column(Text, default="[]")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_story_topics_topic_story_id", "topic", "story_id"),)

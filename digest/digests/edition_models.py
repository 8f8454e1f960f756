"""Tables of editions: the objects editors work on before and while an edition goes out.

An edition ("daily:2026-12-01", "weekly:2026-W49") has a state (planned -> approved -> sending ->
sent, or held), at most one lead story, editor's notes (one for the whole edition, optionally one per
topic), excluded stories, and an audit list of every decision with the editor and the time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from digest.db.base import Base, UTCDateTime, utcnow

EDITION_STATES = ("planned", "approved", "sending", "sent", "held")


class Edition(Base):
    __tablename__ = "editions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)  # the deliveries' edition column
    frequency: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(9), default="planned")
    lead_story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="SET NULL"))
    # Set when the send job planned it; an edition an editor opened early has none yet.
    planned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped on every change of lead, note or exclusions: renderings made before are stale.
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EditionExclusion(Base):
    __tablename__ = "edition_exclusions"

    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"), primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    # The editor's choice: offer the story again in the next edition of the same frequency.
    keep_for_next: Mapped[bool] = mapped_column(Boolean, default=False)


class EditionNote(Base):
    __tablename__ = "edition_notes"

    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), primary_key=True)  # "" for the whole edition
    body: Mapped[str] = mapped_column(Text)  # Markdown, as the editor wrote it


class EditionDecision(Base):
    """One line of the audit list: who decided what, when, and how many digests had gone out already."""

    __tablename__ = "edition_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(16))  # approve, hold, exclude, include, lead, note, deadline
    story_id: Mapped[int | None] = mapped_column(Integer)  # kept as a number: the story may be gone later
    topic: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
    editor: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_before: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_edition_decisions_edition_id_id", "edition_id", "id"),)

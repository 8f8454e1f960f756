"""The archive's table: what each edition contained for each topic group, recorded as it was sent.

Readers' deliveries are erased with the reader, and readers change their topics; this row keeps the
public record of an edition (story ids only, no reader) so its web copy stays what went out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from digest.db.base import Base, UTCDateTime, utcnow


class ArchivedIssue(Base):
    __tablename__ = "archive_issues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    edition: Mapped[str] = mapped_column(String(32))  # "daily:2026-12-01", as deliveries name it
    topic_group: Mapped[str] = mapped_column(String(400))  # "ai-misuse+deepfakes" (archive_paths.group_key)
    # JSON list of the story ids the group's digests carried (the union when readers' windows differed).
    story_ids: Mapped[str] = mapped_column(Text, default="[]")
    first_sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("edition", "topic_group"),
        Index("ix_archive_issues_first_sent_at", "first_sent_at"),
    )

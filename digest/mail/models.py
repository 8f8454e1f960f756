"""The outbox table: one delivery per (subscriber, edition), created before anything is sent.

States: queued -> sending -> sent, or failed (permanent error, or too many attempts), or cancelled
(the subscriber left before it went out); "empty" records an edition that had nothing new for the
subscriber, so it is not looked at again. A row stuck in "sending" (its sender died) is queued again
after a timeout.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from digest.db.base import Base, UTCDateTime, utcnow

DELIVERY_STATES = ("queued", "sending", "sent", "failed", "cancelled", "empty")


class Delivery(Base):
    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    edition: Mapped[str] = mapped_column(String(32))  # "daily:2026-11-24" or "weekly:2026-W48"
    state: Mapped[str] = mapped_column(String(9), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(250))
    # The stories chosen for this digest (JSON list of ids) and the first-seen window they came from:
    # the next digest starts where this one ended, so no story is sent twice.
    story_ids: Mapped[str] = mapped_column(Text, default="[]")
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("subscriber_id", "edition"),
        Index("ix_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_deliveries_subscriber_id_window_end", "subscriber_id", "window_end"),
        Index("ix_deliveries_message_id", "message_id"),  # ties a bounce that lost its return path
        Index("ix_deliveries_edition_state", "edition", "state"),  # an edition's deliveries, by state
    )

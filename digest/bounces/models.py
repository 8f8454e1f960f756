"""The table of the bounces domain: one row per report that came back (bounce, complaint, auto-reply).

The original message is kept for editors only for ``bounces.keep_days``; the row goes with the
subscriber when they are erased (the database cascades it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from digest.db.base import Base, UTCDateTime, utcnow

KINDS = ("hard", "soft", "complaint", "unknown", "ignored")


class BounceEvent(Base):
    __tablename__ = "bounce_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # A hash of the report (or the hosted sender's event id): the same report processed twice, from two
    # IMAP fetchers at once or a webhook retried, is stored and acted on once.
    report_key: Mapped[str] = mapped_column(String(64), unique=True)
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(16))  # file, lmtp, imap, ses, postmark, mailgun
    status: Mapped[str] = mapped_column(String(16), default="")  # the DSN status code, like 5.1.1
    reason: Mapped[str] = mapped_column(Text, default="")  # the server's diagnostic, one line
    action: Mapped[str] = mapped_column(String(16), default="none")  # suppressed, counted, unsubscribed, none
    tied_by: Mapped[str] = mapped_column(String(12), default="")  # return-path, message-id, recipient, ""
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    original: Mapped[bytes | None] = mapped_column(LargeBinary)  # erased after bounces.keep_days

    __table_args__ = (
        Index("ix_bounce_events_subscriber_id_received_at", "subscriber_id", "received_at"),
        Index("ix_bounce_events_delivery_id", "delivery_id"),
        Index("ix_bounce_events_received_at", "received_at"),
    )

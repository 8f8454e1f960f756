"""Tables of the subscribers domain.

A subscriber is an address with a status, a frequency and chosen topics. Consent events record what
was agreed, under which privacy-policy version, when and how. Suppressions keep only a salted hash of
addresses that unsubscribed or were erased, so an import can never silently add them again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from digest.db.base import Base, UTCDateTime, utcnow

STATUSES = ("pending", "confirmed", "unsubscribed")
FREQUENCIES = ("daily", "weekly")


class Subscriber(Base):
    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    frequency: Mapped[str] = mapped_column(String(8), default="weekly")
    # Random and secret; every signed link carries it, so erasing a person kills all their links.
    link_key: Mapped[str] = mapped_column(String(64), unique=True)
    policy_version: Mapped[str | None] = mapped_column(String(64))  # the version last agreed to
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_mail_request_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # confirmation or reminder sent
    # Permanent delivery failures (5xx) in a row; past delivery.max_failures nothing more is sent.
    failed_deliveries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    topics: Mapped[list[SubscriberTopic]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    consents: Mapped[list[ConsentEvent]] = relationship(cascade="all, delete-orphan", order_by="ConsentEvent.id")

    @property
    def topic_slugs(self) -> list[str]:
        return sorted(t.topic for t in self.topics)


class SubscriberTopic(Base):
    __tablename__ = "subscriber_topics"

    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), primary_key=True)


class ConsentEvent(Base):
    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    # requested, confirmed, preferences, policy-accepted, unsubscribed, imported, added-by-editor
    action: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(32))  # web, email-link, one-click, import, editor, cli
    policy_version: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")  # what was agreed: topics and frequency
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Only filled when the operator turns privacy.store_client_info on.
    client_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))


class Suppression(Base):
    __tablename__ = "suppressions"

    address_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(16))  # unsubscribed, erased, blocklisted
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ThrottleEvent(Base):
    """One sign-up attempt, by hashed address or hashed client, for rate limits across workers."""

    __tablename__ = "throttle_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_throttle_events_key_at", "key", "at"),)


class AppSecret(Base):
    """Secrets made once per installation: the suppression salt, and a signing key if none is set."""

    __tablename__ = "app_secrets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))

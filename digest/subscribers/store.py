"""All SQL of the subscribers domain: people, their topics, consent records, suppressions, throttles."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from datetime import datetime

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from digest.subscribers.models import AppSecret, ConsentEvent, Subscriber, SubscriberTopic, Suppression, ThrottleEvent


def installation_secret(session: Session, name: str) -> str:
    """A secret made once for this installation (by the migration, or here if it is missing)."""
    value = session.scalar(select(AppSecret.value).where(AppSecret.name == name))
    if value is None:
        # Two requests may find it missing at once: the first one's secret is kept, for both.
        dialect = session.get_bind().dialect.name
        statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(AppSecret).on_conflict_do_nothing()
        session.execute(statement, {"name": name, "value": secrets.token_hex(32)})
        value = session.scalar(select(AppSecret.value).where(AppSecret.name == name))
    assert value is not None
    return value


def by_email(session: Session, email: str) -> Subscriber | None:
    return session.scalar(select(Subscriber).where(Subscriber.email == email))


def by_id(session: Session, subscriber_id: int) -> Subscriber | None:
    return session.get(Subscriber, subscriber_id)


def by_link_key(session: Session, link_key: str) -> Subscriber | None:
    return session.scalar(select(Subscriber).where(Subscriber.link_key == link_key))


def create(session: Session, email: str, frequency: str, now: datetime) -> Subscriber:
    subscriber = Subscriber(
        email=email, status="pending", frequency=frequency, link_key=secrets.token_urlsafe(24), created_at=now
    )
    session.add(subscriber)
    session.flush()
    return subscriber


def set_topics(session: Session, subscriber: Subscriber, topics: Iterable[str]) -> None:
    wanted = set(topics)
    for row in list(subscriber.topics):
        if row.topic not in wanted:
            subscriber.topics.remove(row)
    have = {row.topic for row in subscriber.topics}
    for topic in sorted(wanted - have):
        subscriber.topics.append(SubscriberTopic(topic=topic))
    session.flush()


def record_consent(
    session: Session,
    subscriber: Subscriber,
    action: str,
    method: str,
    now: datetime,
    *,
    policy_version: str | None,
    detail: str = "",
    client_ip: str | None = None,
    user_agent: str | None = None,
) -> None:
    session.add(
        ConsentEvent(
            subscriber_id=subscriber.id,
            action=action,
            method=method,
            policy_version=policy_version,
            detail=detail,
            at=now,
            client_ip=client_ip,
            user_agent=user_agent[:512] if user_agent else None,
        )
    )
    session.flush()


def consents(session: Session, subscriber: Subscriber) -> list[ConsentEvent]:
    query = select(ConsentEvent).where(ConsentEvent.subscriber_id == subscriber.id).order_by(ConsentEvent.id)
    return list(session.scalars(query))


def is_suppressed(session: Session, address_hash: str) -> bool:
    return session.get(Suppression, address_hash) is not None


def suppress(session: Session, address_hash: str, reason: str, now: datetime) -> None:
    row = session.get(Suppression, address_hash)
    if row is None:
        session.add(Suppression(address_hash=address_hash, reason=reason, at=now))
    else:
        row.reason, row.at = reason, now
    session.flush()


def unsuppress(session: Session, address_hash: str) -> None:
    session.execute(delete(Suppression).where(Suppression.address_hash == address_hash))


def delete_subscriber(session: Session, subscriber: Subscriber) -> None:
    """Remove the person with their topics and consent records (the database cascades the rest)."""
    session.delete(subscriber)
    session.flush()


def throttle_count(session: Session, key: str, since: datetime) -> int:
    query = select(func.count()).select_from(ThrottleEvent).where(ThrottleEvent.key == key, ThrottleEvent.at >= since)
    return session.scalar(query) or 0


def throttle_oldest(session: Session, key: str, since: datetime) -> datetime | None:
    """The earliest event of ``key`` since then: when the oldest counted attempt stops counting."""
    query = select(func.min(ThrottleEvent.at)).where(ThrottleEvent.key == key, ThrottleEvent.at >= since)
    return session.scalar(query)


def throttle_add(session: Session, keys: Iterable[str], now: datetime) -> None:
    session.add_all(ThrottleEvent(key=key, at=now) for key in keys)
    session.flush()


def throttle_purge(session: Session, before: datetime) -> None:
    session.execute(delete(ThrottleEvent).where(ThrottleEvent.at < before))


def count_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(select(Subscriber.status, func.count()).group_by(Subscriber.status))
    return {status: int(n) for status, n in rows}


def count_by_topic(session: Session, status: str = "confirmed") -> dict[str, int]:
    query = (
        select(SubscriberTopic.topic, func.count())
        .join(Subscriber, Subscriber.id == SubscriberTopic.subscriber_id)
        .where(Subscriber.status == status)
        .group_by(SubscriberTopic.topic)
    )
    return {topic: int(n) for topic, n in session.execute(query)}


def iter_subscribers(session: Session, batch: int = 1000) -> Iterator[list[Subscriber]]:
    """Every subscriber in id order, a batch at a time."""
    last = 0
    while True:
        rows = list(
            session.scalars(select(Subscriber).where(Subscriber.id > last).order_by(Subscriber.id).limit(batch))
        )
        if not rows:
            return
        yield rows
        last = rows[-1].id


def record_delivery_result(session: Session, subscriber_id: int, *, permanent_failure: bool) -> None:
    """Count permanent failures in a row; a delivered digest resets the count."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is not None:
        subscriber.failed_deliveries = subscriber.failed_deliveries + 1 if permanent_failure else 0


def clear_failed_deliveries(bind: Session | Connection, subscriber_id: int) -> None:
    """A delivered digest resets the count of permanent failures (the sending path's cheap form)."""
    bind.execute(update(Subscriber).where(Subscriber.id == subscriber_id).values(failed_deliveries=0))


def search(session: Session, text: str, limit: int = 20) -> list[Subscriber]:
    """Subscribers whose address contains ``text`` (at most ``limit``): a lookup, not a listing."""
    pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    query = (
        select(Subscriber).where(Subscriber.email.like(pattern, escape="\\")).order_by(Subscriber.email).limit(limit)
    )
    return list(session.scalars(query))

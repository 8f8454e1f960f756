"""The SQL of imports: many subscribers, topics and consent records per statement, and lookups per batch.

An import adds thousands of people per transaction with SQLAlchemy Core, never one ORM object per
row: ``INSERT ... ON CONFLICT (email) DO NOTHING`` makes a row already on the list a no-op (so an
import run twice, or re-run after being killed, adds nobody twice), and each question an import
asks of the database (which addresses are suppressed, which are already here) is one query a batch.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from digest.subscribers.models import ConsentEvent, Subscriber, SubscriberTopic, Suppression, ThrottleEvent

SUBSCRIBERS: Table = Subscriber.__table__  # type: ignore[assignment]
TOPICS: Table = SubscriberTopic.__table__  # type: ignore[assignment]
CONSENTS: Table = ConsentEvent.__table__  # type: ignore[assignment]
SUPPRESSIONS: Table = Suppression.__table__  # type: ignore[assignment]
# Far below SQLite's limit of 32,766 bound parameters in one statement.
IN_CHUNK = 5000


def _insert(session: Session, table: Table) -> Any:
    """An INSERT that can say ON CONFLICT, in the dialect of the session's database."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"imports need SQLite or PostgreSQL, not {name}")


def suppressed_among(session: Session, hashes: Collection[str]) -> set[str]:
    """Which of these address hashes are suppressed (unsubscribed, erased, blocklisted)."""
    found: set[str] = set()
    for chunk in _chunks(list(hashes)):
        found.update(session.scalars(select(Suppression.address_hash).where(Suppression.address_hash.in_(chunk))))
    return found


def suppress_many(session: Session, hashes: Iterable[str], reason: str, now: datetime) -> None:
    """Suppress addresses by hash; one already suppressed keeps its first reason and date."""
    rows = [{"address_hash": h, "reason": reason, "at": now} for h in hashes]
    if rows:
        session.execute(_insert(session, SUPPRESSIONS).on_conflict_do_nothing(index_elements=["address_hash"]), rows)


def insert_subscribers(session: Session, rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Insert people whose address is not on the list yet; the ids of those inserted, by address."""
    if not rows:
        return {}
    statement: Insert = (
        _insert(session, SUBSCRIBERS)
        .on_conflict_do_nothing(index_elements=["email"])
        .returning(SUBSCRIBERS.c.email, SUBSCRIBERS.c.id)
    )
    return {email: ident for email, ident in session.execute(statement, list(rows))}


def insert_topics(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """``{"subscriber_id", "topic"}`` rows for people just inserted."""
    if rows:
        session.execute(TOPICS.insert(), list(rows))


def insert_consents(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        session.execute(CONSENTS.insert(), list(rows))


def statuses(session: Session, emails: Collection[str]) -> dict[str, str]:
    """The status of each of these addresses that is on the list."""
    found: dict[str, str] = {}
    for chunk in _chunks(list(emails)):
        query = select(Subscriber.email, Subscriber.status).where(Subscriber.email.in_(chunk))
        found.update((email, status) for email, status in session.execute(query))
    return found


def never_mailed_pending(session: Session, emails: Collection[str]) -> list[Subscriber]:
    """Pending people among these addresses who were never sent a confirmation mail, in id order."""
    people: list[Subscriber] = []
    for chunk in _chunks(list(emails)):
        query = select(Subscriber).where(
            Subscriber.email.in_(chunk), Subscriber.status == "pending", Subscriber.last_mail_request_at.is_(None)
        )
        people.extend(session.scalars(query))
    return sorted(people, key=lambda s: s.id)


def throttle_counts(session: Session, keys: Collection[str], since: datetime) -> dict[str, int]:
    """How many throttle events each key has had since a moment (keys with none are left out)."""
    counts: dict[str, int] = {}
    for chunk in _chunks(list(keys)):
        query = (
            select(ThrottleEvent.key, func.count())
            .where(ThrottleEvent.key.in_(chunk), ThrottleEvent.at >= since)
            .group_by(ThrottleEvent.key)
        )
        counts.update({key: int(n) for key, n in session.execute(query)})
    return counts


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), IN_CHUNK):
        yield items[start : start + IN_CHUNK]

"""The SQL of sending: subscribers read as plain rows for planning and for building each copy.

Planning reads every confirmed subscriber (these columns, beside their outbox rows) and every sender
reads the people of each claimed batch, so these reads skip the ORM (no identity map, no change
tracking).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Label, func, select
from sqlalchemy.orm import Session

from digest.subscribers.models import Subscriber, SubscriberTopic

COLUMNS = (
    Subscriber.id,
    Subscriber.email,
    Subscriber.status,
    Subscriber.frequency,
    Subscriber.link_key,
    Subscriber.created_at,
    Subscriber.confirmed_at,
    Subscriber.failed_deliveries,
)


@dataclass(frozen=True, slots=True)
class Recipient:
    id: int
    email: str
    status: str
    frequency: str
    link_key: str
    created_at: datetime
    confirmed_at: datetime | None
    failed_deliveries: int
    topic_slugs: list[str]


def recipients_by_ids(session: Session, ids: Iterable[int]) -> dict[int, Recipient]:
    """The people with these ids, as they are now (a copy is built only for those still confirmed)."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = session.execute(select(*COLUMNS, topics_of(session)).where(Subscriber.id.in_(wanted)))
    return {r.id: recipient(r) for r in rows}


def topics_of(session: Session) -> Label[str | None]:
    """Each subscriber's topics joined by spaces, as a column beside ``COLUMNS``.

    A subquery on the subscriber's own rows, so the database answers it from the primary key of
    their topics whatever it knows of the table: asked for a list of subscribers at once, PostgreSQL
    scanned every subscriber's topics for each batch of a send while the table was not analysed yet
    (just after an import)."""
    joined = func.string_agg if session.get_bind().dialect.name == "postgresql" else func.group_concat
    query = select(joined(SubscriberTopic.topic, " ")).where(SubscriberTopic.subscriber_id == Subscriber.id)
    return query.scalar_subquery().label("topics")


def recipient(row: Any) -> Recipient:
    """A row of ``COLUMNS`` and ``topics_of``."""
    return Recipient(
        row.id,
        row.email,
        row.status,
        row.frequency,
        row.link_key,
        row.created_at,
        row.confirmed_at,
        row.failed_deliveries,
        sorted(row.topics.split(" ")) if row.topics else [],
    )

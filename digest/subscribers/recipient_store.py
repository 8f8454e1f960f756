"""The SQL of sending: subscribers read as plain rows for planning and for building each copy.

Planning reads every confirmed subscriber (these columns, beside their outbox rows) and every sender
reads the people of each claimed batch, so these reads skip the ORM (no identity map, no change
tracking).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
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
    rows = session.execute(select(*COLUMNS).where(Subscriber.id.in_(wanted))).all()
    return {r.id: r for r in _with_topics(session, rows)}


def _with_topics(session: Session, rows: Sequence[Any]) -> list[Recipient]:  # rows of COLUMNS
    topics: dict[int, list[str]] = defaultdict(list)
    ids = [r.id for r in rows]
    query = select(SubscriberTopic.subscriber_id, SubscriberTopic.topic).where(SubscriberTopic.subscriber_id.in_(ids))
    for subscriber_id, topic in session.execute(query):
        topics[subscriber_id].append(topic)
    return [recipient(r, topics[r.id]) for r in rows]


def recipient(row: Any, topics: Iterable[str]) -> Recipient:  # a row of COLUMNS
    return Recipient(
        row.id,
        row.email,
        row.status,
        row.frequency,
        row.link_key,
        row.created_at,
        row.confirmed_at,
        row.failed_deliveries,
        sorted(topics),
    )

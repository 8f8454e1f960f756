"""The SQL of sending: subscribers read as plain rows for planning and for building each copy.

Planning reads every confirmed subscriber and every sender reads the people of each claimed batch,
so these reads skip the ORM (no identity map, no change tracking): one query for the people and
one for their topics, per batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.subscribers.models import Subscriber, SubscriberTopic

_COLUMNS = (
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
    rows = session.execute(select(*_COLUMNS).where(Subscriber.id.in_(wanted))).all()
    return {r.id: r for r in _with_topics(session, rows)}


def iter_sendable(
    session: Session, *, max_failures: int, policy_version: str | None = None, batch: int = 1000
) -> Iterator[list[Recipient]]:
    """Confirmed subscribers whose address still works (and, if given, who agreed to this policy)."""
    last = 0
    while True:
        query = (
            select(*_COLUMNS)
            .where(Subscriber.id > last, Subscriber.status == "confirmed", Subscriber.failed_deliveries < max_failures)
            .order_by(Subscriber.id)
            .limit(batch)
        )
        if policy_version is not None:
            query = query.where(Subscriber.policy_version == policy_version)
        rows = session.execute(query).all()
        if not rows:
            return
        yield _with_topics(session, rows)
        last = rows[-1].id


def _with_topics(session: Session, rows: Sequence[Any]) -> list[Recipient]:  # rows of _COLUMNS
    topics: dict[int, list[str]] = defaultdict(list)
    ids = [r.id for r in rows]
    query = select(SubscriberTopic.subscriber_id, SubscriberTopic.topic).where(SubscriberTopic.subscriber_id.in_(ids))
    for subscriber_id, topic in session.execute(query):
        topics[subscriber_id].append(topic)
    return [
        Recipient(
            r.id,
            r.email,
            r.status,
            r.frequency,
            r.link_key,
            r.created_at,
            r.confirmed_at,
            r.failed_deliveries,
            sorted(topics[r.id]),
        )
        for r in rows
    ]

"""The SQL of planning an edition: every reader a digest can go to, streamed by one query, with
their topics and what the outbox already holds for them (whether the edition due to them is queued
already, and where their last digest ended, which is where the next one starts).

One statement, run once, whatever the number of readers: the database chooses its plan once, and
the rows come a batch at a time (a server-side cursor on PostgreSQL), so memory stays flat. The
topics and the outbox are asked per reader, as subqueries on that reader's own rows, so each is
answered from an index led by the reader's id (the topics' primary key; the deliveries' unique index
on subscriber and edition, their index on subscriber and window end). Asked instead per batch, with
the batch's ids in a list and a new query per batch, PostgreSQL's planner did otherwise: it rates the
edition being planned rare, having no statistics of it yet, and scanned its index, whose rows are the
very rows planning inserts; on tables not analysed yet (just after an import) it also scanned every
reader per batch. Every batch then read all that came before it, and planning grew with the square
of the readers (1.8 s at 20,000, 21.5 s at 100,000).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import Session

from digest.mail.models import Delivery
from digest.mail.outbox import NO_WINDOW_STATES
from digest.subscribers.models import Subscriber, SubscriberTopic
from digest.subscribers.recipient_store import COLUMNS, Recipient, recipient


class Due(NamedTuple):
    person: Recipient
    queued: bool  # a delivery of the edition due to them exists already (any state)
    last_window: datetime | None  # where their last digest (sent, empty or on its way) ended


def iter_due(
    session: Session,
    editions: Mapping[str, str],
    *,
    max_failures: int,
    policy_version: str | None = None,
    batch: int = 1000,
) -> Iterator[list[Due]]:
    """Confirmed subscribers whose address still works (and, if given, who agreed to this policy),
    in id order, ``batch`` at a time; ``editions`` maps each frequency to the edition due now."""
    own = Delivery.subscriber_id == Subscriber.id
    joined = func.string_agg if session.get_bind().dialect.name == "postgresql" else func.group_concat
    topics = (
        select(joined(SubscriberTopic.topic, " "))
        .where(SubscriberTopic.subscriber_id == Subscriber.id)
        .scalar_subquery()
        .label("topics")
    )
    queued = exists().where(own, Delivery.edition == case(dict(editions), value=Subscriber.frequency))
    # "Not failed or cancelled" rather than the four other states: a condition no index on the state
    # can answer, so the planner takes the reader's own rows and never scans every live delivery.
    last_window = (
        select(func.max(Delivery.window_end))
        .where(own, Delivery.state.not_in(NO_WINDOW_STATES))
        .scalar_subquery()
        .label("last_window")
    )
    query = (
        select(*COLUMNS, topics, queued.label("queued"), last_window)
        .where(Subscriber.status == "confirmed", Subscriber.failed_deliveries < max_failures)
        .order_by(Subscriber.id)
    )
    if policy_version is not None:
        query = query.where(Subscriber.policy_version == policy_version)
    result = session.execute(query, execution_options={"yield_per": batch})
    for rows in result.partitions():
        yield [Due(recipient(r, r.topics.split(" ") if r.topics else ()), bool(r.queued), r.last_window) for r in rows]

"""All SQL of the outbox but planning's (queueing a row per reader, in digests.plan_store): claiming
deliveries, recording what happened.

Claiming is atomic: one UPDATE ... RETURNING takes the rows (on PostgreSQL its subquery locks them with
FOR UPDATE SKIP LOCKED), so several senders, in one process or many, never take the same row. A row
whose sender died stays "sending" until ``reclaim_stale`` puts it back in the queue.

Single-row updates skip the ORM's synchronisation of loaded objects (none are loaded in those short
transactions): on the sending path that halves their cost.

A claimed row is handed over one by one: ``hand_over`` stamps ``sent_at`` on a row that is still
"sending" just before its message goes to the mail server (in the transaction that records the
connection's previous message as sent), and an unsubscribe cancels every row not stamped yet
(``cancel_unsent``). Both are single-row writes the database orders, so each row is either
cancelled or handed over, never both; a stamped row is in flight until its outcome is recorded.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import (
    Connection,
    Table,
    Update,
    bindparam,
    func,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from digest.mail.models import Delivery

# The deliveries whose window does not count (they never reached the reader): a reader's next
# digest starts where the last of the others (sent, empty, queued, sending) ended.
NO_WINDOW_STATES = ("failed", "cancelled")


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    subscriber_id: int
    edition: str
    story_ids: tuple[int, ...]
    attempts: int


def last_windows(session: Session, subscriber_ids: Sequence[int]) -> dict[int, datetime]:
    """Where each subscriber's last digest (sent, or empty) ended: the next one starts there."""
    query = (
        select(Delivery.subscriber_id, func.max(Delivery.window_end))
        .where(Delivery.subscriber_id.in_(subscriber_ids), Delivery.state.not_in(NO_WINDOW_STATES))
        .group_by(Delivery.subscriber_id)
    )
    return {subscriber_id: when for subscriber_id, when in session.execute(query)}


def reclaim_stale(session: Session, now: datetime, timeout: timedelta) -> int:
    """Put rows whose sender stopped answering back in the queue."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.state == "sending", Delivery.claimed_at < now - timeout)
        .values(state="queued", claimed_at=None, claimed_by=None, sent_at=None, updated_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def hand_over(
    bind: Session | Connection, delivery_id: int, worker: str, now: datetime, *, durable: bool = False
) -> bool:
    """Mark a claimed row as going to the mail server now; False when it was cancelled (or taken back).

    ``durable``: the transaction records more than this stamp (the previous message as sent), and
    must wait for the disk like any other."""
    if not durable and _dialect(bind) == "postgresql":
        # Seen by every other transaction at once, without waiting for the disk: lost only if the
        # server itself crashes, and then the row is simply in flight again, as after any crash.
        bind.execute(text("SET LOCAL synchronous_commit = off"))
    result = bind.execute(HAND_OVER, {"delivery_id": delivery_id, "worker": worker, "now": now})
    return bool(result.rowcount)  # type: ignore[attr-defined]


def claim(
    session: Session, worker: str, now: datetime, limit: int, skip_editions: Collection[str] = ()
) -> list[Claimed]:
    """Take up to ``limit`` due rows for this worker; no other worker can take them too. Rows of
    ``skip_editions`` (editions an editor holds) stay queued.

    One UPDATE ... RETURNING: on PostgreSQL its subquery locks the rows it picks with SKIP LOCKED, so
    concurrent senders take disjoint rows; on SQLite the statement itself holds the only write lock,
    so sender processes sharing one file cannot take the same row either.
    """
    due = select(Delivery.id).where(Delivery.state == "queued", Delivery.next_attempt_at <= now)
    if skip_editions:
        due = due.where(Delivery.edition.not_in(list(skip_editions)))
    # Oldest due first, in the order of the index on (state, next attempt), so the claim reads only
    # the rows it takes (rows due at one time come in the order they were queued). In id order it
    # sorted every queued row, or walked the primary key from the first delivery ever made.
    picked = (
        due.order_by(Delivery.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due")  # a CTE runs once; an IN (subquery) may run again and take more than ``limit`` rows
    )
    statement = (
        update(Delivery)
        .where(Delivery.id == picked.c.id, Delivery.state == "queued")
        .values(state="sending", claimed_at=now, claimed_by=worker, updated_at=now)
        .returning(Delivery.id, Delivery.subscriber_id, Delivery.edition, Delivery.story_ids, Delivery.attempts)
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(statement).all()
    claimed = [Claimed(i, sub, edition, tuple(json.loads(ids)), attempts) for i, sub, edition, ids, attempts in rows]
    claimed.sort(key=lambda c: c.id)
    return claimed


def mark_sent(bind: Session | Connection, delivery_id: int, message_id: str, now: datetime) -> None:
    bind.execute(SENT, {"delivery_id": delivery_id, "message_id": message_id, "now": now})


def mark_retry(
    session: Session, delivery_id: int, error: str, now: datetime, when: datetime, *, sending: bool = False
) -> bool:
    """Back in the queue until ``when``. ``sending``: only while the row is still being sent (an
    unsubscribe may have cancelled it before it was handed over: a pipelined envelope is refused
    before that); False when it was not."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, *((Delivery.state == "sending",) if sending else ()))
        .values(
            state="queued",
            last_error=error,
            attempts=Delivery.attempts + 1,
            next_attempt_at=when,
            claimed_at=None,
            claimed_by=None,
            sent_at=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_failed(session: Session, delivery_id: int, error: str, now: datetime, *, sending: bool = False) -> bool:
    """Failed for good (``sending``: as for ``mark_retry``)."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, *((Delivery.state == "sending",) if sending else ()))
        .values(state="failed", last_error=error, attempts=Delivery.attempts + 1, sent_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def counts(session: Session, edition: str | None = None) -> dict[str, int]:
    query = select(Delivery.state, func.count()).group_by(Delivery.state)
    if edition is not None:
        query = query.where(Delivery.edition == edition)
    return {state: int(n) for state, n in session.execute(query)}


def sent_since(session: Session, since: datetime) -> int:
    query = select(func.count()).select_from(Delivery).where(Delivery.state == "sent", Delivery.sent_at >= since)
    return session.scalar(query) or 0


def waiting(session: Session, now: datetime) -> int:
    query = (
        select(func.count()).select_from(Delivery).where(Delivery.state == "queued", Delivery.next_attempt_at <= now)
    )
    return session.scalar(query) or 0


def deliveries_of(session: Session, subscriber_id: int) -> list[Delivery]:
    return list(session.scalars(select(Delivery).where(Delivery.subscriber_id == subscriber_id).order_by(Delivery.id)))


def cancel_unsent(session: Session, subscriber_id: int, now: datetime) -> int:
    """An unsubscribe wins over digests not yet handed to the mail server, queued or claimed."""
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.subscriber_id == subscriber_id,
            Delivery.state.in_(("queued", "sending")),
            Delivery.sent_at.is_(None),
        )
        .values(state="cancelled", last_error="not sent: unsubscribed before sending", updated_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def in_flight(session: Session, subscriber_id: int) -> int:
    """Digests to this subscriber being handed to the mail server right now."""
    query = (
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.subscriber_id == subscriber_id, Delivery.state == "sending", Delivery.sent_at.is_not(None))
    )
    return session.scalar(query) or 0


def cancelled_since(session: Session, since: datetime) -> int:
    """Deliveries cancelled (by an unsubscribe, or found unsubscribed when claimed) since that time."""
    query = (
        select(func.count()).select_from(Delivery).where(Delivery.state == "cancelled", Delivery.updated_at >= since)
    )
    return session.scalar(query) or 0


def mark_cancelled(session: Session, delivery_id: int, now: datetime) -> None:
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(state="cancelled", last_error="not sent: unsubscribed before sending", updated_at=now)
        .execution_options(synchronize_session=False)
    )


def mark_empty(session: Session, delivery_id: int, now: datetime) -> None:
    """Nothing left to send once editors' exclusions apply: final, like an edition with nothing new."""
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(state="empty", story_ids="[]", claimed_at=None, claimed_by=None, updated_at=now)
    )


def release(bind: Session | Connection, delivery_id: int, now: datetime) -> None:
    """Give a claimed row back unsent (the sender is shutting down): the next run takes it."""
    bind.execute(RELEASE, {"delivery_id": delivery_id, "now": now})


def _dialect(bind: Session | Connection) -> str:
    return bind.dialect.name if isinstance(bind, Connection) else bind.get_bind().dialect.name


# The statements of the sending path, on the table rather than the ORM entity and built once: a
# sender runs them once or twice per message, and so they skip the ORM's per-statement work. The
# names of their values can be chosen, for statements that hold several of them (a sending round).
def hand_over_statement(delivery_id: str = "delivery_id") -> Update:
    return (
        update(_TABLE)
        .where(
            _TABLE.c.id == bindparam(delivery_id),
            _TABLE.c.state == "sending",
            _TABLE.c.claimed_by == bindparam("worker"),
            _TABLE.c.sent_at.is_(None),
        )
        .values(sent_at=bindparam("now"), updated_at=bindparam("now"))
    )


def sent_statement(delivery_id: str = "delivery_id", message_id: str = "message_id") -> Update:
    return (
        update(_TABLE)
        .where(_TABLE.c.id == bindparam(delivery_id))
        .values(
            state="sent",
            sent_at=bindparam("now"),
            message_id=bindparam(message_id),
            attempts=_TABLE.c.attempts + 1,
            updated_at=bindparam("now"),
            last_error=None,
        )
    )


def release_statement(delivery_id: str = "delivery_id") -> Update:
    return (
        update(_TABLE)
        .where(_TABLE.c.id == bindparam(delivery_id), _TABLE.c.state == "sending")
        .values(state="queued", claimed_at=None, claimed_by=None, sent_at=None, updated_at=bindparam("now"))
    )


_TABLE = cast(Table, Delivery.__table__)
HAND_OVER, SENT, RELEASE = hand_over_statement(), sent_statement(), release_statement()

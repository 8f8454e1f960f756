"""All SQL of the outbox: queueing deliveries, claiming them, recording what happened.

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
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import (
    Connection,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from digest.db.types import UTCDateTime
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


def queue(
    session: Session, rows: Iterable[tuple[int, str, Sequence[int], datetime]], now: datetime, *, empty: bool = False
) -> int:
    """Create deliveries (subscriber id, edition, story ids, window end); "empty" ones are final.
    Two planners racing on one edition: the second one's rows are simply not created."""
    new = [(s, e, json.dumps(list(ids)), w) for s, e, ids, w in rows]
    if not new:
        return 0
    fixed = {"state": "empty" if empty else "queued", "now": now}
    if session.get_bind().dialect.name == "postgresql":
        # One statement over arrays: psycopg's executemany sends an INSERT per row, which was a
        # third of planning. The array of times skips the column type, so it gets UTC here.
        subscriber_ids, editions, story_ids, window_ends = (list(c) for c in zip(*new, strict=True))
        arrays = {"subscriber_ids": subscriber_ids, "editions": editions, "story_ids": story_ids}
        session.execute(QUEUE_ROWS, arrays | {"window_ends": [w.astimezone(UTC) for w in window_ends]} | fixed)
    else:  # sqlite3's executemany runs its prepared statement for every row in C
        names = ("subscriber_id", "edition", "story_ids", "window_end")
        session.execute(QUEUE_ROW, [dict(zip(names, row, strict=True)) | fixed for row in new])
    return len(new)


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
    picked = (
        due.order_by(Delivery.id)
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


def mark_retry(session: Session, delivery_id: int, error: str, now: datetime, when: datetime) -> None:
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
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


def mark_failed(session: Session, delivery_id: int, error: str, now: datetime) -> None:
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(state="failed", last_error=error, attempts=Delivery.attempts + 1, sent_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )


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
# sender runs them once or twice per message, and so they skip the ORM's per-statement work.
_TABLE = cast(Table, Delivery.__table__)
HAND_OVER = (
    update(_TABLE)
    .where(
        _TABLE.c.id == bindparam("delivery_id"),
        _TABLE.c.state == "sending",
        _TABLE.c.claimed_by == bindparam("worker"),
        _TABLE.c.sent_at.is_(None),
    )
    .values(sent_at=bindparam("now"), updated_at=bindparam("now"))
)
SENT = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("delivery_id"))
    .values(
        state="sent",
        sent_at=bindparam("now"),
        message_id=bindparam("message_id"),
        attempts=_TABLE.c.attempts + 1,
        updated_at=bindparam("now"),
        last_error=None,
    )
)
RELEASE = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("delivery_id"), _TABLE.c.state == "sending")
    .values(state="queued", claimed_at=None, claimed_by=None, sent_at=None, updated_at=bindparam("now"))
)

# Queueing: planning inserts a row per reader. On PostgreSQL the rows of a batch go as arrays that
# the statement unnests; the other columns are the same for every row.
_NEW = (
    func.unnest(
        bindparam("subscriber_ids", type_=ARRAY(Integer)),
        bindparam("editions", type_=ARRAY(String)),
        bindparam("story_ids", type_=ARRAY(Text)),
        bindparam("window_ends", type_=ARRAY(DateTime(timezone=True))),
    )
    .table_valued("subscriber_id", "edition", "story_ids", "window_end")
    .render_derived()
)
_NOW = bindparam("now", type_=UTCDateTime)
_COLUMNS = ["subscriber_id", "edition", "story_ids", "window_end", "state", "attempts"]
QUEUE_ROWS = (
    pg_insert(_TABLE)
    .from_select(
        [*_COLUMNS, "created_at", "updated_at", "next_attempt_at"],
        select(*_NEW.c, bindparam("state", type_=String), literal(0), _NOW, _NOW, _NOW),
    )
    .on_conflict_do_nothing(index_elements=["subscriber_id", "edition"])
)
QUEUE_ROW = (
    sqlite_insert(_TABLE)
    .values(
        subscriber_id=bindparam("subscriber_id"),
        edition=bindparam("edition"),
        story_ids=bindparam("story_ids"),
        window_end=bindparam("window_end"),
        state=bindparam("state"),
        attempts=0,
        created_at=_NOW,
        updated_at=_NOW,
        next_attempt_at=_NOW,
    )
    .on_conflict_do_nothing(index_elements=["subscriber_id", "edition"])
)

"""The SQL of planning an edition: every reader a digest can go to, streamed by one query, with
their topics and what the outbox already holds for them (whether the edition due to them is queued
already, and where their last digest ended, which is where the next one starts); then their rows
queued, a batch per statement, and the planner's statistics of the outbox brought up to date.

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

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import NamedTuple, cast

from sqlalchemy import DateTime, Integer, String, Table, Text, bindparam, case, exists, func, literal, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from digest.db.types import UTCDateTime
from digest.mail.models import Delivery
from digest.mail.outbox import NO_WINDOW_STATES
from digest.subscribers.models import Subscriber
from digest.subscribers.recipient_store import COLUMNS, Recipient, recipient, topics_of


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
        select(*COLUMNS, topics_of(session), queued.label("queued"), last_window)
        .where(Subscriber.status == "confirmed", Subscriber.failed_deliveries < max_failures)
        .order_by(Subscriber.id)
    )
    if policy_version is not None:
        query = query.where(Subscriber.policy_version == policy_version)
    result = session.execute(query, execution_options={"yield_per": batch})
    for rows in result.partitions():
        yield [Due(recipient(r), bool(r.queued), r.last_window) for r in rows]


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


def refresh_statistics(session: Session) -> None:
    """Tell PostgreSQL's planner what the outbox holds now (a sample of it, a fraction of a second).

    Planning an edition adds a row per reader, none of them counted in the statistics the planner
    works from: it would take the rows waiting to be sent for a handful, and pick for every claim a
    plan that reads them all. Autovacuum analyses a table again only once a tenth of it has changed,
    which one edition is not once the table holds more than ten."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE deliveries"))


# Planning inserts a row per reader. On PostgreSQL the rows of a batch go as arrays that the
# statement unnests; the other columns are the same for every row.
_TABLE = cast(Table, Delivery.__table__)
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

"""The SQL of a sending process's bookkeeping: many messages' outcomes and hand-overs in one
transaction, straight to the database driver.

A sender writes once per message (``digests.bookkeeping``), so these writes are the sending path's
hottest SQL. They are the outbox's own statements (``outbox.SENT``, ``HAND_OVER``, ``RELEASE``),
compiled once per database and run on the driver's cursor, with their values converted as
SQLAlchemy would: a tenth of the cost of a statement run through SQLAlchemy, where that cost was
half of each message's bookkeeping.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Connection, Dialect, text
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from digest.mail import outbox


@dataclass(frozen=True, slots=True)
class _Prepared:
    """One statement as the driver takes it: its SQL and how to lay out its values."""

    sql: str
    defaults: dict[str, Any]  # the values written into the statement itself (state = 'sent', ...)
    order: tuple[str, ...] | None  # positional drivers (SQLite): the names in the order of the ?s

    def values(self, given: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        merged = {**self.defaults, **given}
        return merged if self.order is None else tuple(merged[name] for name in self.order)


@dataclass(frozen=True, slots=True)
class _Statements:
    sent: _Prepared
    hand_over: _Prepared
    release: _Prepared
    stamp: Callable[[datetime], Any]  # a time as the driver takes it for these columns


@cache
def _statements(dialect: Dialect) -> _Statements:
    def prepare(statement: ClauseElement) -> _Prepared:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        order = tuple(compiled.positiontup) if compiled.positiontup is not None else None
        given = {bind.key: None for bind in compiled.binds.values() if bind.required}  # filled per row
        return _Prepared(compiled.string, dict(compiled.construct_params(given) or {}), order)

    processor = outbox.HAND_OVER.table.c.sent_at.type.dialect_impl(dialect).bind_processor(dialect)
    return _Statements(
        prepare(outbox.SENT),
        prepare(outbox.HAND_OVER),
        prepare(outbox.RELEASE),
        processor or (lambda value: value),
    )


def record_and_hand_over(
    connection: Connection,
    sent: Sequence[tuple[int, str]],
    hand_over: Sequence[int],
    give_back: Sequence[int],
    worker: str,
    now: datetime,
) -> set[int]:
    """In the connection's open transaction: record ``sent`` (delivery id, message id) as sent,
    stamp the ``hand_over`` rows still waiting to go out and return their ids, and release the
    ``give_back`` rows unsent."""
    plan = _statements(connection.dialect)
    if not sent and hand_over and connection.dialect.name == "postgresql":
        # Only stamps: seen by every other transaction at once, without waiting for the disk; lost
        # only if the server itself crashes, and then the rows are in flight again, as after any
        # crash. A transaction that records a message as sent waits for the disk like any other.
        connection.execute(text("SET LOCAL synchronous_commit = off"))
    stamp = plan.stamp(now)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        # One statement per row: a group is a few rows, and psycopg's executemany starts a pipeline,
        # which costs more than it saves for so few.
        for delivery_id, message_id in sent:
            cursor.execute(
                plan.sent.sql, plan.sent.values({"delivery_id": delivery_id, "message_id": message_id, "now": stamp})
            )
        handed = set()
        for delivery_id in hand_over:
            cursor.execute(
                plan.hand_over.sql, plan.hand_over.values({"delivery_id": delivery_id, "worker": worker, "now": stamp})
            )
            if cursor.rowcount:
                handed.add(delivery_id)
        for delivery_id in give_back:
            cursor.execute(plan.release.sql, plan.release.values({"delivery_id": delivery_id, "now": stamp}))
    finally:
        cursor.close()
    return handed

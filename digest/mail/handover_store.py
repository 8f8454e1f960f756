"""The SQL of a sending process's bookkeeping: many messages' outcomes and hand-overs in one
transaction, straight to the database driver.

A sender writes once per message (``digests.bookkeeping``), so these writes are the sending path's
hottest SQL. They are the outbox's own statements (``outbox.SENT``, ``HAND_OVER``, ``RELEASE``; on
PostgreSQL a whole round of them as one statement), compiled once per database and run on the
driver's cursor, with their values converted as SQLAlchemy would: a tenth of the cost of a statement
run through SQLAlchemy, where that cost was half of each message's bookkeeping.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Any, cast

from sqlalchemy import Connection, Dialect, false, literal, select, union_all
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


def _prepare(statement: ClauseElement, dialect: Dialect) -> _Prepared:
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    order = tuple(compiled.positiontup) if compiled.positiontup is not None else None
    given = {bind.key: None for bind in compiled.binds.values() if bind.required}  # filled per row
    return _Prepared(compiled.string, dict(compiled.construct_params(given) or {}), order)


@cache
def _statements(dialect: Dialect) -> _Statements:
    processor = outbox.HAND_OVER.table.c.sent_at.type.dialect_impl(dialect).bind_processor(dialect)
    return _Statements(
        _prepare(outbox.SENT, dialect),
        _prepare(outbox.HAND_OVER, dialect),
        _prepare(outbox.RELEASE, dialect),
        processor or (lambda value: value),
    )


@lru_cache(maxsize=64)
def _round(dialect: Dialect, sent: int, hand_over: int, give_back: int) -> _Prepared:
    """PostgreSQL: a whole round as one statement, one round trip: each row's own UPDATE (on its
    id, so always through the primary key) a data-modifying CTE, which runs whether or not the
    SELECT reads it; the SELECT returns the ids handed over. Outside a transaction the statement is
    a transaction of its own. One statement per shape of round (how many rows of each kind)."""
    ctes = [outbox.sent_statement(f"sent_{i}", f"message_id_{i}").cte(f"sent_{i}") for i in range(sent)]
    ctes += [outbox.release_statement(f"give_back_{i}").cte(f"released_{i}") for i in range(give_back)]
    handed = [
        outbox.hand_over_statement(f"hand_over_{i}").returning(outbox.HAND_OVER.table.c.id).cte(f"handed_{i}")
        for i in range(hand_over)
    ]
    ids = [select(h.c.id) for h in handed] or [select(literal(0)).where(false())]
    return _prepare((union_all(*ids) if len(ids) > 1 else ids[0]).add_cte(*ctes), dialect)


def record_and_hand_over(
    connection: Connection,
    sent: Sequence[tuple[int, str]],
    hand_over: Sequence[int],
    give_back: Sequence[int],
    worker: str,
    now: datetime,
) -> set[int]:
    """Record ``sent`` (delivery id, message id) as sent, stamp the ``hand_over`` rows still waiting
    to go out and return their ids, and release the ``give_back`` rows unsent, in one transaction:
    the connection's open one, or on SQLite one begun and committed here, or on PostgreSQL one
    statement, which outside a transaction is one itself."""
    plan = _statements(connection.dialect)
    stamp = plan.stamp(now)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if connection.dialect.name == "postgresql":
            statement = _round(connection.dialect, len(sent), len(hand_over), len(give_back))
            values: dict[str, Any] = {"worker": worker, "now": stamp}
            for i, (delivery_id, message_id) in enumerate(sent):
                values[f"sent_{i}"], values[f"message_id_{i}"] = delivery_id, message_id
            values |= {f"hand_over_{i}": delivery_id for i, delivery_id in enumerate(hand_over)}
            values |= {f"give_back_{i}": delivery_id for i, delivery_id in enumerate(give_back)}
            cursor.execute(statement.sql, statement.values(values))
            return {delivery_id for (delivery_id,) in cursor.fetchall()}
        # SQLite: one statement per row, each a call into the library, no round trip, in a
        # transaction begun and committed here on the driver (SQLAlchemy's own begin and commit
        # cost more than the round's statements).
        if connection.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
            return _sqlite_round(cursor, plan, sent, hand_over, give_back, worker, stamp)  # the caller's
        cursor.execute("BEGIN IMMEDIATE")
        try:
            handed = _sqlite_round(cursor, plan, sent, hand_over, give_back, worker, stamp)
        except BaseException:
            with contextlib.suppress(Exception):
                cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")
    finally:
        cursor.close()
    return handed


def _sqlite_round(
    cursor: Any,
    plan: _Statements,
    sent: Sequence[tuple[int, str]],
    hand_over: Sequence[int],
    give_back: Sequence[int],
    worker: str,
    stamp: Any,
) -> set[int]:
    """The statements of a SQLite round, one call into the library each."""
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
    return handed

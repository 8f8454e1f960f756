"""The SQL of imports: many subscribers, topics and consent records per statement, and lookups per batch.

An import adds thousands of people per transaction, never one ORM object per row: a row whose
address is already on the list is skipped by ``ON CONFLICT (email) DO NOTHING`` (so an import run
twice, or re-run after being killed, adds nobody twice), and each question an import asks of the
database (which addresses are suppressed, which are already here) is one query a batch.

SQLAlchemy's per-row bookkeeping costs more than the inserts themselves at a million rows, so rows
go to the driver directly, each value converted by its column's own SQLAlchemy type (times are
stored exactly as everywhere else): on SQLite through executemany (in-process, nothing to save),
on PostgreSQL through COPY, into a temporary table first where conflicts must be skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Table, any_, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from digest.subscribers.models import ConsentEvent, Subscriber, SubscriberTopic, Suppression, ThrottleEvent

SUBSCRIBERS: Table = Subscriber.__table__  # type: ignore[assignment]
TOPICS: Table = SubscriberTopic.__table__  # type: ignore[assignment]
CONSENTS: Table = ConsentEvent.__table__  # type: ignore[assignment]
SUPPRESSIONS: Table = Suppression.__table__  # type: ignore[assignment]
# Far below SQLite's limit of 32,766 bound parameters in one statement.
IN_CHUNK = 5000
Rows = Sequence[Mapping[str, Any]]


# SQLite's page cache for an import's connection (64 MiB; its default is 2 MiB): the unique indexes
# of a list of a million people (addresses, link keys) take random pages, which a small cache reads
# from the file again and again. Measured at 1,000,000 rows: system time 19 s -> 10 s.
SQLITE_IMPORT_CACHE_KIB = 65536


def prepare_bulk_writes(session: Session) -> None:
    """Set the connection up for many inserts (a larger page cache on SQLite; nothing on PostgreSQL)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")


def any_suppressed(session: Session) -> bool:
    """Whether any address is suppressed at all: if none is, an import need not hash its addresses."""
    return session.connection().scalar(select(SUPPRESSIONS.c.address_hash).limit(1)) is not None


def suppressed_among(session: Session, hashes: Collection[str]) -> set[str]:
    """Which of these address hashes are suppressed (unsubscribed, erased, blocklisted)."""
    found: set[str] = set()
    for chunk in _chunks(list(hashes)):
        query = select(SUPPRESSIONS.c.address_hash).where(_among(session, SUPPRESSIONS.c.address_hash, chunk))
        found.update(session.connection().scalars(query))
    return found


def suppress_many(session: Session, hashes: Iterable[str], reason: str, now: datetime) -> None:
    """Suppress addresses by hash; one already suppressed keeps its first reason and date."""
    rows = [{"address_hash": h, "reason": reason, "at": now} for h in hashes]
    if rows:
        _insert(session, SUPPRESSIONS, rows, skip_conflicts_on="address_hash")


def insert_subscribers(session: Session, rows: Rows) -> tuple[dict[str, int], dict[str, str]]:
    """Insert people whose address is not on the list yet.

    Returns the ids of those inserted and the status of those already there, by address.
    """
    if not rows:
        return {}, {}
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        inserted = _insert(session, SUBSCRIBERS, rows, skip_conflicts_on="email", returning=("email", "id"))
        assert inserted is not None
    else:
        # SQLite has no RETURNING with executemany, but one writer at a time (the transaction began
        # IMMEDIATE): the ids can be given instead of looked up again, and a count says whether every
        # row went in. Only when some did not (an address added meanwhile) are the new rows looked up:
        # a row is ours if it has our link key.
        first = (connection.scalar(select(func.max(SUBSCRIBERS.c.id))) or 0) + 1
        _insert(
            session, SUBSCRIBERS, [{"id": first + n, **row} for n, row in enumerate(rows)], skip_conflicts_on="email"
        )
        added = connection.scalar(select(func.count()).where(SUBSCRIBERS.c.id >= first))
        if added == len(rows):
            inserted = {row["email"]: first + n for n, row in enumerate(rows)}
        else:
            keys = {row["email"]: row["link_key"] for row in rows}
            inserted = {}
            for chunk in _chunks(list(keys)):
                c = SUBSCRIBERS.c
                query = select(c.email, c.id, c.link_key).where(_among(session, c.email, chunk))
                inserted.update((email, ident) for email, ident, key in connection.execute(query) if keys[email] == key)
    missing = [row["email"] for row in rows if row["email"] not in inserted]
    return inserted, statuses(session, missing)


def insert_topics(session: Session, rows: Rows) -> None:
    """``{"subscriber_id", "topic"}`` rows for people just inserted."""
    if rows:
        _insert(session, TOPICS, rows)


def insert_consents(session: Session, rows: Rows) -> None:
    if rows:
        _insert(session, CONSENTS, rows)


def statuses(session: Session, emails: Collection[str]) -> dict[str, str]:
    """The status of each of these addresses that is on the list."""
    found: dict[str, str] = {}
    for chunk in _chunks(list(emails)):
        query = select(SUBSCRIBERS.c.email, SUBSCRIBERS.c.status).where(_among(session, SUBSCRIBERS.c.email, chunk))
        found.update((email, status) for email, status in session.connection().execute(query))
    return found


def never_mailed_pending(session: Session, emails: Collection[str]) -> list[Subscriber]:
    """Pending people among these addresses who were never sent a confirmation mail, in id order."""
    people: list[Subscriber] = []
    for chunk in _chunks(list(emails)):
        query = select(Subscriber).where(
            _among(session, Subscriber.email, chunk),
            Subscriber.status == "pending",
            Subscriber.last_mail_request_at.is_(None),
        )
        people.extend(session.scalars(query))
    return sorted(people, key=lambda s: s.id)


def throttle_counts(session: Session, keys: Collection[str], since: datetime) -> dict[str, int]:
    """How many throttle events each key has had since a moment (keys with none are left out)."""
    counts: dict[str, int] = {}
    for chunk in _chunks(list(keys)):
        query = (
            select(ThrottleEvent.key, func.count())
            .where(_among(session, ThrottleEvent.key, chunk), ThrottleEvent.at >= since)
            .group_by(ThrottleEvent.key)
        )
        counts.update({key: int(n) for key, n in session.execute(query)})
    return counts


def _among(session: Session, column: Any, values: list[str]) -> ColumnElement[bool]:
    """``column IN values``, with the values as one parameter rather than thousands of placeholders
    (an array on PostgreSQL, a JSON list on SQLite), which SQLAlchemy would compile one by one."""
    result: ColumnElement[bool]
    if session.get_bind().dialect.name == "postgresql":
        result = column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    else:
        result = column.in_(select(literal_column("value")).select_from(func.json_each(json.dumps(values))))
    return result


def _insert(
    session: Session, table: Table, rows: Rows, *, skip_conflicts_on: str = "", returning: tuple[str, str] = ("", "")
) -> dict[Any, Any] | None:
    """Insert many rows at once; rows clashing on the unique column ``skip_conflicts_on`` are left out.

    With ``returning`` (two column names), PostgreSQL answers {first: second} for the rows inserted;
    SQLite answers None.
    """
    connection = session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    columns = [table.c[name] for name in names]
    values = _converted(columns, rows, dialect)
    quote = dialect.identifier_preparer.quote
    listed = ", ".join(quote(name) for name in names)
    conflict = f" ON CONFLICT ({quote(skip_conflicts_on)}) DO NOTHING" if skip_conflicts_on else ""
    if dialect.name != "postgresql":
        marks = ", ".join("?" for _ in names)
        connection.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({listed}) VALUES ({marks}){conflict}", values)
        return None
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    target = quote(table.name)
    if skip_conflicts_on:
        # COPY cannot skip conflicts: copy into a temporary table of the same columns, then insert.
        target = quote(f"import_{table.name}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {target} ON COMMIT DROP AS SELECT {listed} FROM {quote(table.name)} WITH NO DATA"
        )
    with cursor.copy(f"COPY {target} ({listed}) FROM STDIN") as copy:
        for row in values:
            copy.write_row(row)
    if not skip_conflicts_on:
        return None
    back = f" RETURNING {quote(returning[0])}, {quote(returning[1])}" if returning[0] else ""
    cursor.execute(f"INSERT INTO {quote(table.name)} ({listed}) SELECT {listed} FROM {target}{conflict}{back}")
    found = dict(cursor.fetchall()) if back else None
    cursor.execute(f"DROP TABLE {target}")
    return found


def _converted(columns: list[Any], rows: Rows, dialect: Any) -> list[tuple[Any, ...]]:
    """Each row as a tuple, every value as its column's type hands it to the driver."""
    pick = itemgetter(*(column.key for column in columns))
    converting: list[tuple[int, Callable[[Any], Any], dict[Any, Any]]] = [
        (i, processor, {})
        for i, column in enumerate(columns)
        if (processor := column.type.dialect_impl(dialect).bind_processor(dialect)) is not None
    ]
    result: list[tuple[Any, ...]] = []
    for row in rows:
        values = list(pick(row)) if len(columns) > 1 else [pick(row)]
        for i, convert, seen in converting:
            # The values of a batch repeat (its one "now", None): convert each only once.
            raw = values[i]
            values[i] = seen[raw] if raw in seen else seen.setdefault(raw, convert(raw))
        result.append(tuple(values))
    return result


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), IN_CHUNK):
        yield items[start : start + IN_CHUNK]

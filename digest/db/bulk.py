"""Inserting many rows at once, the cheapest way each database offers.

On PostgreSQL rows go through COPY: no statement text to build, convert and plan per batch, and the
driver formats the values in C (a multi-row VALUES list costs about twice as much on the client).
Keys of the autoincrement column are taken from its sequence first, in one statement, so they are
known without RETURNING. Rows that may meet a unique constraint cannot use COPY; they go as a
multi-row INSERT ... ON CONFLICT DO NOTHING. SQLite gets the driver's executemany, which reuses one
prepared statement in C, with the keys it would give worked out first there too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Table, func, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session


def insert_many(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    returning: Column[Any] | None = None,
    skip_conflicts: Sequence[str] | None = None,
) -> list[Any]:
    """Insert ``rows`` (all with the same keys); returns ``returning`` of each inserted row.

    With ``skip_conflicts`` (the columns of a unique constraint), rows that would break it are left
    out, and so are their ``returning`` values (in no particular order). Without it, ``returning``
    must be the table's autoincrement key, and its values come back in the order of ``rows``.
    """
    if not rows:
        return []
    postgresql = session.get_bind().dialect.name == "postgresql"
    if skip_conflicts is not None:
        make = postgresql_insert if postgresql else sqlite_insert
        statement = make(table).on_conflict_do_nothing(index_elements=list(skip_conflicts))
        if returning is None:
            session.execute(statement, list(rows))
            return []
        return list(session.scalars(statement.returning(returning), list(rows)))
    if returning is not None and returning is not table.autoincrement_column:
        raise ValueError(f"only the autoincrement key of {table.name} can be returned in order")
    if postgresql:
        return _copy(session, table, rows, returning)
    return _executemany(session, table, rows, returning)


def _executemany(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], key: Column[Any] | None
) -> list[Any]:
    """SQLite: one prepared statement run over every row by the driver, in C. The keys are worked
    out first (``_next_keys_sqlite``), as RETURNING in the order of the rows costs one statement per
    row, and the values are converted here, as for COPY, since SQLAlchemy's own handling of many
    rows costs more than the driver's."""
    keys = _next_keys_sqlite(session, table, key, len(rows)) if key is not None else []
    given = list(rows[0])
    names = [key.name, *given] if key is not None else given
    processors = _processors(session, table, names)
    quote = session.get_bind().dialect.identifier_preparer.quote
    statement = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in names)}) "
        f"VALUES ({', '.join('?' for _ in names)})"
    )
    given_values = ([row[name] for name in given] for row in rows)
    values = ([k, *v] for k, v in zip(keys, given_values, strict=True)) if key is not None else given_values
    converted = [[p(v) if p else v for p, v in zip(processors, row, strict=True)] for row in values]
    cursor = session.connection().connection.cursor()
    try:
        cursor.executemany(statement, converted)
    finally:
        cursor.close()
    return keys


def _next_keys_sqlite(session: Session, table: Table, key: Column[Any], n: int) -> list[int]:
    """The next ``n`` values SQLite would give an INTEGER PRIMARY KEY (without AUTOINCREMENT): the
    largest one plus one, and so on. Every writing transaction holds the database's write lock from
    its start (BEGIN IMMEDIATE, see digest.db.engine), so nobody else can take them meanwhile; a
    transaction begun otherwise would at worst fail on the primary key, never mix rows up."""
    largest = session.scalar(select(func.max(key)).select_from(table))
    first = int(largest or 0) + 1
    return list(range(first, first + n))


def _processors(session: Session, table: Table, names: Sequence[str]) -> list[Any]:
    """Each column type's conversion of a value for the driver (UTC times, and on SQLite their text),
    where it has one: the type as the dialect implements it, as SQLAlchemy's own statements use it."""
    dialect = session.get_bind().dialect
    return [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]


def _copy(session: Session, table: Table, rows: Sequence[Mapping[str, Any]], key: Column[Any] | None) -> list[Any]:
    dialect = session.get_bind().dialect
    given = list(rows[0])
    names = list(given)
    keys: list[Any] = []
    if key is not None:
        # One value per row from the key's own sequence, exactly as the column default would take them.
        keys = list(
            session.scalars(
                text("SELECT nextval(pg_get_serial_sequence(:table, :column)) FROM generate_series(1, :n)"),
                {"table": table.name, "column": key.name, "n": len(rows)},
            )
        )
        names.insert(0, key.name)
    # COPY skips SQLAlchemy's parameter handling: apply each column type's conversion (UTC times) here.
    processors = _processors(session, table, names)
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    cursor = session.connection().connection.cursor()
    try:
        with cursor.copy(f"COPY {quote(table.name)} ({columns}) FROM STDIN") as copy:
            for i, row in enumerate(rows):
                values = [row[name] for name in given]
                if key is not None:
                    values.insert(0, keys[i])
                copy.write_row([p(v) if p else v for p, v in zip(processors, values, strict=True)])
    finally:
        cursor.close()
    return keys

"""Inserting many rows in one statement, the cheapest way each database offers.

On PostgreSQL the rows go as one array per column, unnested by the server: the statement text is the
same for any number of rows, so the driver converts it once and the server plans it once, and the
values travel as arrays. (A multi-row VALUES list makes a new, long statement text for every batch;
the driver's executemany sends one statement per row.) SQLite gets the driver's executemany, which
reuses one prepared statement in C, with multi-row VALUES where RETURNING is asked for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
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
    out, and so are their ``returning`` values. Without it, values of the table's autoincrement key
    come back in the order of ``rows``.
    """
    if not rows:
        return []
    columns = list(rows[0])
    if session.get_bind().dialect.name == "postgresql":
        arrays = [func.unnest(bindparam(name, type_=ARRAY(table.c[name].type))) for name in columns]
        pg = postgresql_insert(table).from_select(columns, select(*arrays))
        if skip_conflicts is not None:
            pg = pg.on_conflict_do_nothing(index_elements=list(skip_conflicts))
        params = {name: [row[name] for row in rows] for name in columns}
        if returning is None:
            session.execute(pg, params)
            return []
        values = list(session.scalars(pg.returning(returning), params))
        # The rows are inserted in array order and the key's sequence counts up as they are, so sorted
        # keys are in the rows' order (what SQLAlchemy's own batched inserts rely on as well).
        return sorted(values) if skip_conflicts is None and returning is table.autoincrement_column else values
    lite = sqlite_insert(table)
    if skip_conflicts is not None:
        lite = lite.on_conflict_do_nothing(index_elements=list(skip_conflicts))
    if returning is None:
        session.execute(lite, list(rows))
        return []
    return list(session.scalars(lite.returning(returning, sort_by_parameter_order=skip_conflicts is None), list(rows)))

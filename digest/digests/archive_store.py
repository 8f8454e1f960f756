"""All SQL of the archive: recording what an edition carried per topic group, and reading it back."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from digest.digests.archive_models import ArchivedIssue


def record_issue(session: Session, edition: str, group: str, story_ids: Sequence[int], now: datetime) -> None:
    """Add these stories to the edition's record for the group (readers whose windows differ may have
    got different stories: the record is their union, in the order first sent)."""
    dialect = session.get_bind().dialect.name
    values = {
        "edition": edition,
        "topic_group": group,
        "story_ids": json.dumps(list(story_ids)),
        "first_sent_at": now,
        "updated_at": now,
    }
    # Sender processes may record one group at once: the second insert is not made, and its stories
    # are merged into the row under a row lock instead (the first finds nothing to add).
    insert = (pg_insert if dialect == "postgresql" else sqlite_insert)(ArchivedIssue).on_conflict_do_nothing(
        index_elements=["edition", "topic_group"]
    )
    session.execute(insert, [values])
    query = select(ArchivedIssue).where(ArchivedIssue.edition == edition, ArchivedIssue.topic_group == group)
    row = session.scalars(query.with_for_update()).one()
    known = json.loads(row.story_ids)
    added = [i for i in story_ids if i not in set(known)]
    if added:
        row.story_ids = json.dumps(known + added)
        row.updated_at = now
        session.flush()


def issue(session: Session, edition: str, group: str) -> ArchivedIssue | None:
    query = select(ArchivedIssue).where(ArchivedIssue.edition == edition, ArchivedIssue.topic_group == group)
    return session.scalar(query)


def issues_of(session: Session, edition: str) -> list[ArchivedIssue]:
    return list(session.scalars(select(ArchivedIssue).where(ArchivedIssue.edition == edition)))


def recent_editions(session: Session, limit: int) -> list[str]:
    """The editions with a record, most recently first sent first."""
    query = (
        select(ArchivedIssue.edition)
        .group_by(ArchivedIssue.edition)
        .order_by(func.min(ArchivedIssue.first_sent_at).desc(), ArchivedIssue.edition.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def issues_in(session: Session, editions: Sequence[str]) -> list[ArchivedIssue]:
    if not editions:
        return []
    query = select(ArchivedIssue).where(ArchivedIssue.edition.in_(editions)).order_by(ArchivedIssue.topic_group)
    return list(session.scalars(query))


def story_ids(row: ArchivedIssue) -> list[int]:
    return [int(i) for i in json.loads(row.story_ids)]

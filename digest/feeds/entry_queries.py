"""The statements that store entries (see entry_store): look-ups of what is stored, bulk inserts.

Each statement covers every feed of a batch at once. On PostgreSQL lists of values go as one array
parameter (``= ANY(...)``, ``unnest``) rather than one parameter per value, so a statement's text is
the same whatever the number of values: the driver converts and the server plans it once per poll
instead of once per feed, and no list needs cutting to stay under a parameter limit.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ARRAY, ColumnElement, Table, and_, any_, bindparam, delete, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from digest.db.bulk import insert_many
from digest.feeds.models import Story, StorySource

if TYPE_CHECKING:
    from digest.feeds.parse import ParsedEntry

T = TypeVar("T")
_CHUNK = 500  # SQLite: keeps IN (...) lists well under its parameter limit
# The tables themselves: Core statements on the hot path skip the ORM's per-row bookkeeping.
_STORIES: Table = Story.__table__  # type: ignore[assignment]
_SOURCES: Table = StorySource.__table__  # type: ignore[assignment]
_INSERT_SOURCES_POSTGRESQL = text(
    "INSERT INTO story_sources (story_id, feed_id, dedup_key, guid, link, content_hash, first_seen_at) "
    "SELECT * FROM unnest(CAST(:story_ids AS INTEGER[]), CAST(:feed_ids AS INTEGER[]), CAST(:keys AS VARCHAR[]), "
    "CAST(:guids AS VARCHAR[]), CAST(:links AS VARCHAR[]), CAST(:hashes AS VARCHAR[]), "
    "CAST(:seen AS TIMESTAMP WITH TIME ZONE[])) "
    "ON CONFLICT (feed_id, dedup_key) DO NOTHING RETURNING feed_id, dedup_key"
)


@dataclass(frozen=True, slots=True)
class KnownSource:
    id: int
    story_id: int
    content_hash: str
    published: datetime


@dataclass(frozen=True, slots=True)
class SourceRow:
    story_id: int
    feed_id: int
    dedup_key: str
    entry: ParsedEntry
    first_seen_at: datetime


def known_sources(session: Session, pairs: Sequence[tuple[int, str]]) -> dict[tuple[int, str], KnownSource]:
    """The stored sources with these (feed id, dedup key) pairs, with their story's publication time."""
    wanted = set(pairs)
    feed_ids = sorted({feed_id for feed_id, _ in wanted})
    known: dict[tuple[int, str], KnownSource] = {}
    for chunk in _chunks(session, sorted({key for _, key in wanted})):
        query = (
            select(_SOURCES.c.feed_id, _SOURCES.c.dedup_key, _SOURCES.c.id, _SOURCES.c.story_id)
            .add_columns(_SOURCES.c.content_hash, _STORIES.c.published_at)
            .join(_STORIES, _STORIES.c.id == _SOURCES.c.story_id)
            .where(_among(session, _SOURCES.c.feed_id, feed_ids), _among(session, _SOURCES.c.dedup_key, chunk))
        )
        for feed_id, key, source_id, story_id, source_hash, published in session.execute(query):
            if (feed_id, key) in wanted:  # the same key in another feed of the batch is not this one
                known[(feed_id, key)] = KnownSource(source_id, story_id, source_hash, published)
    return known


def stories_by_link(
    session: Session, links: Collection[str], feed_ids: Sequence[int]
) -> dict[str, list[tuple[int, frozenset[int]]]]:
    """Link -> the stories with it, oldest first, each with the feeds of ``feed_ids`` pointing to it."""
    pointing: dict[int, set[int]] = {}
    found: dict[str, list[int]] = {}
    for chunk in _chunks(session, sorted(links)):
        joined = _STORIES.outerjoin(
            _SOURCES, and_(_SOURCES.c.story_id == _STORIES.c.id, _among(session, _SOURCES.c.feed_id, feed_ids))
        )
        query = (
            select(_STORIES.c.link, _STORIES.c.id, _SOURCES.c.feed_id)
            .select_from(joined)
            .where(_among(session, _STORIES.c.link, chunk))
        )
        for link, story_id, feed_id in session.execute(query):
            if story_id not in pointing:
                pointing[story_id] = set()
                found.setdefault(link, []).append(story_id)
            if feed_id is not None:
                pointing[story_id].add(feed_id)
    return {
        link: [(story_id, frozenset(pointing[story_id])) for story_id in sorted(ids)] for link, ids in found.items()
    }


def story_row(entry: ParsedEntry, now: datetime) -> dict[str, Any]:
    return {
        "link": entry.link,
        "title": entry.title,
        "author": entry.author,
        "published_at": entry.published_at or now,
        "published_guessed": entry.published_at is None,
        "first_seen_at": now,
        "updated_at": now,
        "summary_text": entry.summary_text,
        "summary_html": entry.summary_html,
        "content_html": entry.content_html,
        "content_hash": entry.content_hash,
    }


def insert_stories(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert new stories; their ids, in the order of ``rows``."""
    return [int(i) for i in insert_many(session, _STORIES, rows, returning=_STORIES.c.id)]


def insert_sources(session: Session, rows: Sequence[SourceRow]) -> set[tuple[int, str]]:
    """Insert sources; returns the (feed id, dedup key) of those stored, leaving out any that another
    transaction stored first (idempotent: an entry stored meanwhile is left to that transaction)."""
    if not rows:
        return set()
    if _postgresql(session):
        values = {
            "story_ids": [r.story_id for r in rows],
            "feed_ids": [r.feed_id for r in rows],
            "keys": [r.dedup_key for r in rows],
            "guids": [r.entry.guid for r in rows],
            "links": [r.entry.link for r in rows],
            "hashes": [r.entry.content_hash for r in rows],
            "seen": [r.first_seen_at for r in rows],
        }
        return {(int(f), str(k)) for f, k in session.execute(_INSERT_SOURCES_POSTGRESQL, values)}
    statement = sqlite_insert(_SOURCES).on_conflict_do_nothing(index_elements=["feed_id", "dedup_key"])
    listed = [
        {
            "story_id": r.story_id,
            "feed_id": r.feed_id,
            "dedup_key": r.dedup_key,
            "guid": r.entry.guid,
            "link": r.entry.link,
            "content_hash": r.entry.content_hash,
            "first_seen_at": r.first_seen_at,
        }
        for r in rows
    ]
    returned = session.execute(statement.returning(_SOURCES.c.feed_id, _SOURCES.c.dedup_key), listed)
    return {(int(f), str(k)) for f, k in returned}


def delete_stories(session: Session, ids: Collection[int]) -> None:
    for chunk in _chunks(session, sorted(ids)):
        session.execute(delete(_STORIES).where(_STORIES.c.id.in_(chunk)))


def stories_by_id(session: Session, ids: Collection[int]) -> dict[int, Story]:
    """The stories, as ORM objects: updating one in place is a plain attribute change."""
    found: dict[int, Story] = {}
    for chunk in _chunks(session, sorted(ids)):
        found.update({s.id: s for s in session.scalars(select(Story).where(Story.id.in_(chunk)))})
    return found


def update_source_hashes(session: Session, hashes: Sequence[tuple[int, str]]) -> None:
    """Record each (source id, content hash): the version of the story its feed gave last."""
    session.execute(
        update(_SOURCES).where(_SOURCES.c.id == bindparam("source_id")),
        [{"source_id": source_id, "content_hash": value} for source_id, value in hashes],
    )


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _among(session: Session, column: ColumnElement[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL as one array parameter (see the module's docstring)."""
    if _postgresql(session):
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def _chunks(session: Session, items: list[T]) -> Iterable[list[T]]:
    size = max(len(items), 1) if _postgresql(session) else _CHUNK
    for start in range(0, len(items), size):
        yield items[start : start + size]

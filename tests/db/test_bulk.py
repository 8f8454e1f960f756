"""Rows inserted in bulk (COPY on PostgreSQL, the driver's executemany on SQLite) are the same rows
the ORM would have stored one at a time: same keys in order, same times, found by the same queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Table, select

from digest.db.bulk import insert_many
from digest.db.engine import session_scope
from digest.feeds.models import Story

STORIES: Table = Story.__table__  # type: ignore[assignment]
NOON = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def story(title: str, published: datetime) -> dict[str, Any]:
    return {
        "link": f"https://news.example/{title}",
        "title": title,
        "author": None,
        "published_at": published,
        "published_guessed": False,
        "first_seen_at": NOON,
        "updated_at": NOON,
        "summary_text": "",
        "summary_html": "",
        "content_html": "",
        "content_hash": title,
    }


def test_bulk_rows_take_the_next_keys_and_compare_by_time_with_rows_stored_one_by_one(engine: Engine) -> None:
    with session_scope(engine) as session:
        alone = Story(**story("alone", NOON))
        session.add(alone)
        session.flush()
        first_key = alone.id
    with session_scope(engine) as session:
        rows = [story(f"bulk-{hours}", NOON + timedelta(hours=hours)) for hours in (-1, 0, 1, 2)]
        keys = insert_many(session, STORIES, rows, returning=STORIES.c.id)
    assert keys == [first_key + 1, first_key + 2, first_key + 3, first_key + 4]

    with session_scope(engine) as session:
        later = select(Story.title).where(Story.published_at >= NOON).order_by(Story.published_at, Story.id)
        assert list(session.scalars(later)) == ["alone", "bulk-0", "bulk-1", "bulk-2"]
        same_time = select(Story.title).where(Story.published_at == NOON).order_by(Story.id)
        assert list(session.scalars(same_time)) == ["alone", "bulk-0"]
        stored = {s.title: (s.id, s.published_at, s.published_guessed) for s in session.scalars(select(Story))}
    assert stored["bulk-2"] == (first_key + 4, NOON + timedelta(hours=2), False)
    assert stored["bulk--1"] == (first_key + 1, NOON - timedelta(hours=1), False)

    with session_scope(engine) as session:  # the ORM carries on after the bulk keys
        after = Story(**story("after", NOON))
        session.add(after)
        session.flush()
        assert after.id == first_key + 5

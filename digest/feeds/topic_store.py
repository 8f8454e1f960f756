"""All SQL about stories' topics: the tagger's results, editors' pins and removals, topic filters.

A story has at most one row per topic. Rows from the tagger ("rule") are replaced whenever the story
is tagged again; rows from editors ("pinned", "removed") are never touched by tagging, so a manual
decision survives every retag. A story carries a topic when its row is "rule" or "pinned".
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, literal, select
from sqlalchemy.orm import Session

from digest.db.bulk import insert_many
from digest.db.light import sa_reader
from digest.feeds import light_store
from digest.feeds.light_store import CARRIED
from digest.feeds.models import Story, StoryTopic

__all__ = ["CARRIED"]
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class TopicChange:
    """What tagging changed on one story: topics it gained and lost (editors' decisions included)."""

    gained: frozenset[str]
    lost: frozenset[str]


@dataclass(frozen=True, slots=True)
class StoryText:
    id: int
    title: str
    summary: str
    content_html: str


def save_taggings(
    session: Session,
    taggings: Mapping[int, tuple[Sequence[str], Mapping[str, list[str]]]],
    now: datetime,
    *,
    new: Collection[int] = (),
) -> dict[int, TopicChange]:
    """Replace the tagger's topics of these stories; returns what changed for each story.

    ``new`` names stories created in this transaction: they have no topics yet, so theirs are simply
    inserted, in bulk.
    """
    changes: dict[int, TopicChange] = {}
    rows = [
        {
            "story_id": story_id,
            "topic": topic,
            "origin": "rule",
            "updated_at": now,
            "why": json.dumps(taggings[story_id][1].get(topic, []), ensure_ascii=False),
        }
        for story_id in new
        for topic in taggings[story_id][0]
    ]
    insert_many(session, StoryTopic.__table__, rows)  # type: ignore[arg-type]
    for story_id in new:
        changes[story_id] = TopicChange(frozenset(taggings[story_id][0]), frozenset())
    ids = sorted(set(taggings) - set(new))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        stored: dict[int, dict[str, StoryTopic]] = {story_id: {} for story_id in chunk}
        for row in session.scalars(select(StoryTopic).where(StoryTopic.story_id.in_(chunk))):
            stored[row.story_id][row.topic] = row
        for story_id in chunk:
            topics, why = taggings[story_id]
            existing = stored[story_id]
            before = {t for t, r in existing.items() if r.origin in CARRIED}
            for topic, old in existing.items():
                if old.origin == "rule" and topic not in topics:
                    session.delete(old)
            for topic in topics:
                reasons = json.dumps(why.get(topic, []), ensure_ascii=False)
                current = existing.get(topic)
                if current is None:
                    session.add(StoryTopic(story_id=story_id, topic=topic, origin="rule", why=reasons, updated_at=now))
                elif current.origin != "removed" and current.why != reasons:
                    current.why = reasons
                    current.updated_at = now
            after = {t for t in topics if existing.get(t) is None or existing[t].origin != "removed"}
            after |= {t for t, r in existing.items() if r.origin == "pinned"}
            changes[story_id] = TopicChange(frozenset(after - before), frozenset(before - after))
    session.flush()
    return changes


def set_manual(session: Session, story_id: int, topic: str, origin: str | None, now: datetime) -> None:
    """Pin ("pinned") or remove ("removed") a topic by hand; None forgets the editor's decision."""
    row = session.get(StoryTopic, (story_id, topic))
    if origin is None:
        if row is not None and row.origin != "rule":
            session.delete(row)
        return
    if row is None:
        why = "[]" if origin == "removed" else json.dumps(["pinned by an editor"])
        session.add(StoryTopic(story_id=story_id, topic=topic, origin=origin, why=why, updated_at=now))
    else:
        row.origin = origin
        row.updated_at = now
    session.flush()


def topics_of(session: Session, story_ids: Iterable[int]) -> dict[int, dict[str, list[str]]]:
    """Story id -> {topic: why} for the topics each story carries."""
    result: dict[int, dict[str, list[str]]] = {}
    ids = sorted(set(story_ids))
    for start in range(0, len(ids), _CHUNK):
        query = select(StoryTopic).where(
            StoryTopic.story_id.in_(ids[start : start + _CHUNK]), StoryTopic.origin.in_(CARRIED)
        )
        for row in session.scalars(query.order_by(StoryTopic.story_id, StoryTopic.topic)):
            result.setdefault(row.story_id, {})[row.topic] = json.loads(row.why)
    return result


def manual_decisions_of(session: Session, story_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """Story id -> {topic: "pinned" | "removed"} for editors' decisions on these stories."""
    result: dict[int, dict[str, str]] = {}
    query = select(StoryTopic).where(StoryTopic.story_id.in_(list(story_ids)), StoryTopic.origin != "rule")
    for row in session.scalars(query):
        result.setdefault(row.story_id, {})[row.topic] = row.origin
    return result


def manual_decisions(session: Session, story_id: int) -> dict[str, str]:
    query = select(StoryTopic.topic, StoryTopic.origin).where(
        StoryTopic.story_id == story_id, StoryTopic.origin != "rule"
    )
    return {topic: origin for topic, origin in session.execute(query)}


def story_ids_with_topic(topic: str) -> Select[int]:
    """A subquery of the ids of stories carrying ``topic``, for filters in other queries."""
    return select(StoryTopic.story_id).where(StoryTopic.topic == topic, StoryTopic.origin.in_(CARRIED))


def iter_story_texts(session: Session, batch: int = 1000, *, with_content: bool = False) -> Iterator[list[StoryText]]:
    """Every story's text in id order, a batch at a time, without loading all stories at once."""
    last = 0
    content = Story.content_html if with_content else literal("")
    while True:
        rows = session.execute(
            select(Story.id, Story.title, Story.summary_text, content)
            .where(Story.id > last)
            .order_by(Story.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield [StoryText(r[0], r[1], r[2], r[3]) for r in rows]
        last = rows[-1][0]


def count_by_topic(session: Session) -> dict[str, int]:
    return light_store.count_by_topic(sa_reader(session.connection()))


def all_manual_decisions(session: Session) -> dict[int, dict[str, bool]]:
    """Every editor's decision: story id -> {topic: True (pinned on) | False (pinned off)}."""
    query = select(StoryTopic.story_id, StoryTopic.topic, StoryTopic.origin).where(StoryTopic.origin != "rule")
    result: dict[int, dict[str, bool]] = {}
    for story_id, topic, origin in session.execute(query):
        result.setdefault(story_id, {})[topic] = origin == "pinned"
    return result


def texts_version(session: Session) -> tuple[int, int, str]:
    """What changes whenever a story's text does: how many stories, the newest id, the latest update.

    A new story raises the id, a deleted one lowers the count, an updated one moves updated_at.
    """
    count, newest, updated = session.execute(
        select(func.count(), func.coalesce(func.max(Story.id), 0), func.max(Story.updated_at))
    ).one()
    return int(count), int(newest), str(updated)


def texts_of(session: Session, story_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """Story id -> (headline, summary) of these stories."""
    ids = list(story_ids)
    texts = {}
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            select(Story.id, Story.title, Story.summary_text).where(Story.id.in_(ids[start : start + _CHUNK]))
        )
        texts.update({row[0]: (row[1], row[2]) for row in rows})
    return texts

"""Tagging stored stories: right after ingestion, and again for every story when the rules change.

The tagger itself is pure (digest.tagging); this module feeds it stored text and saves what it says,
never overriding an editor's pinned or removed topic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from digest.db.engine import session_scope
from digest.feeds import story_store, topic_store
from digest.feeds.models import Story
from digest.feeds.reading import tag_text
from digest.feeds.topic_store import TopicChange
from digest.tagging.rules import Ruleset


@dataclass(slots=True)
class RetagReport:
    stories: int = 0
    changed: int = 0
    gained: Counter[str] = field(default_factory=Counter)
    lost: Counter[str] = field(default_factory=Counter)


def tag_and_save(
    session: Session,
    ruleset: Ruleset,
    stories: dict[int, tuple[str, str, str]],
    now: datetime,
    *,
    new: Collection[int] = (),
) -> dict[int, TopicChange]:
    """Tag these stories (id -> title, summary, content HTML) and save the result.

    ``new`` names the stories created in this transaction, which have no topics yet.
    """
    taggings = {}
    for story_id, (title, summary, content_html) in stories.items():
        tagging = tag_text(ruleset, title, summary, content_html)
        taggings[story_id] = (tagging.topics, tagging.why)
    return topic_store.save_taggings(session, taggings, now, new=new)


def retag_stories(
    engine: Engine,
    ruleset: Ruleset,
    *,
    total: Callable[[int], None] | None = None,
    advance: Callable[[int], None] | None = None,
    batch: int = 1000,
) -> RetagReport:
    """Tag every stored story again with ``ruleset``; one transaction per batch."""
    report = RetagReport()
    with session_scope(engine) as session:
        count = story_store.count_stories(session)
    if total:
        total(count)
    with session_scope(engine, read_only=True) as reader:  # the batches commit beside it
        for texts in topic_store.iter_story_texts(reader, batch, with_content=ruleset.uses_content):
            now = datetime.now(UTC)
            with session_scope(engine) as session:
                changes = tag_and_save(
                    session, ruleset, {t.id: (t.title, t.summary, t.content_html) for t in texts}, now
                )
            for change in changes.values():
                report.gained.update(change.gained)
                report.lost.update(change.lost)
                report.changed += bool(change.gained or change.lost)
            report.stories += len(texts)
            if advance:
                advance(len(texts))
    return report


TOPIC_ACTIONS = {"+": "pinned", "-": "removed", "~": None}


def parse_topic_changes(changes: Sequence[str], slugs: Sequence[str]) -> list[tuple[str, str | None]]:
    """ "+topic" pins, "-topic" removes, "~topic" hands back to the rules; ValueError says what is wrong."""
    parsed = []
    for change in changes:
        sign, slug = change[:1], change[1:]
        if sign not in TOPIC_ACTIONS or not slug:
            raise ValueError(f"'{change}': write +topic to pin, -topic to remove, ~topic to return it to the rules")
        if slug not in slugs:
            raise ValueError(f"'{change}': unknown topic '{slug}'; the topics are {', '.join(slugs)}")
        parsed.append((slug, TOPIC_ACTIONS[sign]))
    return parsed


def edit_topics(
    session: Session, ruleset: Ruleset, story: Story, changes: Sequence[tuple[str, str | None]], now: datetime
) -> None:
    """An editor's decisions on one story; a topic handed back to the rules is re-tagged at once."""
    for slug, origin in changes:
        topic_store.set_manual(session, story.id, slug, origin, now)
    if any(origin is None for _slug, origin in changes):
        tag_and_save(session, ruleset, {story.id: (story.title, story.summary_text, story.content_html)}, now)

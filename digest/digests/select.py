"""Which stories go to whom: pure selection over candidates loaded once per edition.

For a subscriber: the stories carrying any of their topics, first seen after their last digest (or
their confirmation), not older than the configured age, at most N per topic, newest first. A story
with two of their topics appears once, under the first of them; the same link from several feeds is
already one story with several sources.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from digest.feeds import story_store, topic_store
from digest.feeds.models import Story


@dataclass(frozen=True, slots=True)
class Candidate:
    id: int
    title: str
    link: str | None
    summary: str
    published_at: datetime
    first_seen_at: datetime
    topics: frozenset[str]
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Selection:
    groups: tuple[tuple[str, tuple[Candidate, ...]], ...]  # (topic, stories), in the subscriber's topic order

    @property
    def story_ids(self) -> tuple[int, ...]:
        return tuple(story.id for _topic, stories in self.groups for story in stories)

    @property
    def count(self) -> int:
        return sum(len(stories) for _topic, stories in self.groups)


def load_candidates(session: Session, since: datetime, until: datetime) -> list[Candidate]:
    """Stories first seen in (since, until] that carry at least one topic, newest first."""
    found = story_store.stories_first_seen_between(session, since, until)
    return _candidates(session, found)


def load_by_ids(session: Session, ids: Collection[int]) -> dict[int, Candidate]:
    found = story_store.list_stories(session, limit=len(ids) or 1, story_ids=ids)
    return {c.id: c for c in _candidates(session, found, keep_untagged=True)}


def select_stories(
    candidates: Sequence[Candidate],
    topic_order: Sequence[str],
    chosen: Collection[str],
    since: datetime,
    per_topic: int,
    *,
    exclude: Collection[int] = (),
    also: Collection[int] = (),
) -> Selection:
    """``exclude``: stories editors took out of the edition; ``also``: stories offered again however
    old their first sighting (excluded from an earlier edition and kept for the next)."""
    wanted = [topic for topic in topic_order if topic in chosen]
    taken: set[int] = set(exclude)
    groups = []
    for topic in wanted:
        stories: list[Candidate] = []
        for story in candidates:
            if len(stories) >= per_topic:
                break
            fresh = story.first_seen_at > since or story.id in also
            if topic in story.topics and fresh and story.id not in taken:
                stories.append(story)
                taken.add(story.id)
        if stories:
            groups.append((topic, tuple(stories)))
    return Selection(tuple(groups))


def regroup(
    topic_order: Sequence[str], chosen: list[Candidate], topics: Collection[str], exclude: Collection[int] = ()
) -> Selection:
    """Stories already chosen for a delivery, grouped again under the subscriber's topics, without
    those editors excluded since."""
    chosen = sorted((c for c in chosen if c.id not in exclude), key=lambda c: (c.published_at, c.id), reverse=True)
    return select_stories(chosen, topic_order, topics, datetime.min.replace(tzinfo=UTC), max(len(chosen), 1))


def _candidates(session: Session, stories: Sequence[Story], keep_untagged: bool = False) -> list[Candidate]:
    topics = topic_store.topics_of(session, [s.id for s in stories])
    result = []
    for story in stories:
        carried = frozenset(topics.get(story.id, {}))
        if not carried and not keep_untagged:
            continue
        sources = tuple(
            dict.fromkeys(src.feed.title or src.feed.url for src in sorted(story.sources, key=lambda s: s.id))
        )
        result.append(
            Candidate(
                story.id,
                story.title,
                story.link,
                story.summary_text,
                story.published_at,
                story.first_seen_at,
                carried,
                sources,
            )
        )
    result.sort(key=lambda c: (c.published_at, c.id), reverse=True)
    return result

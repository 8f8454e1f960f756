"""Which stories go to whom: pure selection over candidates loaded once per edition.

For a subscriber: the stories carrying any of their topics, first seen after their last digest (or
their confirmation), not older than the configured age, at most N per topic, newest first. The
stories of one event (several outlets' reports of one development) are one item: the best report
(or the one editors chose) with the others as "also reported by", carrying the union of their
topics. An item with two of the reader's topics appears once, under the first (narrowest) of them;
the same link from several feeds is already one story with several sources.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from digest.events.view import placements
from digest.feeds import story_store, topic_store
from digest.feeds.story_store import StoryRow

# Summaries longer than a digest shows are no better: beyond this, the earlier report leads.
_USEFUL_SUMMARY = 300


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
    event: str = ""  # "" while the story is not grouped: an event of its own
    thread: str = ""
    headline: int = 0  # > 0: editors chose this report to lead its event
    members: tuple[int, ...] = ()  # the event's other stories in this item
    also_reported: tuple[tuple[str, str | None], ...] = ()  # (outlet, link) of the other reports
    earlier: tuple[tuple[str, datetime, str | None], ...] = ()  # (headline, date, link), per reader

    @property
    def ids(self) -> tuple[int, ...]:
        return (self.id, *self.members)


@dataclass(frozen=True, slots=True)
class Selection:
    groups: tuple[tuple[str, tuple[Candidate, ...]], ...]  # (topic, stories), in the subscriber's topic order

    @property
    def story_ids(self) -> tuple[int, ...]:
        return tuple(i for _topic, stories in self.groups for story in stories for i in story.ids)

    @property
    def count(self) -> int:
        return sum(len(stories) for _topic, stories in self.groups)


def load_candidates(session: Session, since: datetime, until: datetime) -> list[Candidate]:
    """Stories first seen in (since, until] that carry at least one topic, or are in an event whose
    other stories do, newest first."""
    found = _candidates(session, story_store.story_rows(session, first_seen=(since, until)), keep_untagged=True)
    # An untagged report still belongs to an event that carries topics through its other reports.
    tagged = {c.event for c in found if c.topics and c.event}
    return [c for c in found if c.topics or c.event in tagged]


def load_by_ids(session: Session, ids: Collection[int]) -> dict[int, Candidate]:
    found = story_store.story_rows(session, story_ids=ids)
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
    """``exclude``: stories editors took out of the edition (with the rest of their event);
    ``also``: stories offered again however old their first sighting (excluded from an earlier
    edition and kept for the next)."""
    wanted = [topic for topic in topic_order if topic in chosen]
    gone = {story.event for story in candidates if story.id in exclude and story.event}
    fresh = [
        story
        for story in candidates
        if (story.first_seen_at > since or story.id in also) and story.id not in exclude and story.event not in gone
    ]
    items = as_events(fresh)
    taken: set[int] = set()
    groups = []
    for topic in wanted:
        stories: list[Candidate] = []
        for story in items:
            if len(stories) >= per_topic:
                break
            if topic in story.topics and story.id not in taken:
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
    chosen = sorted(chosen, key=lambda c: (c.published_at, c.id), reverse=True)
    since = datetime.min.replace(tzinfo=UTC)
    return select_stories(chosen, topic_order, topics, since, max(len(chosen), 1), exclude=exclude)


def as_events(stories: Sequence[Candidate]) -> list[Candidate]:
    """One item per event, newest first: its best report (editors' choice first, then one with a link
    and the fullest summary, then the earliest) with the other reports and the union of their topics."""
    by_event: dict[str, list[Candidate]] = defaultdict(list)
    for story in stories:
        by_event[story.event or f"story:{story.id}"].append(story)
    items = []
    for reports in by_event.values():
        if len(reports) == 1:
            items.append(reports[0])
            continue
        best = max(
            reports,
            key=lambda c: (
                c.headline,
                c.link is not None,
                min(len(c.summary), _USEFUL_SUMMARY),
                -c.published_at.timestamp(),
            ),
        )
        others = sorted((c for c in reports if c is not best), key=lambda c: (c.published_at, c.id))
        # One line per outlet (its first report), none for the outlets of the leading report itself.
        outlets: dict[str, str | None] = {}
        for other in others:
            for name in other.sources:
                if name not in best.sources:
                    outlets.setdefault(name, other.link)
        items.append(
            replace(
                best,
                topics=frozenset().union(*(c.topics for c in reports)),
                members=tuple(c.id for c in others),
                also_reported=tuple(outlets.items()),
            )
        )
    items.sort(key=lambda c: (c.published_at, c.id), reverse=True)
    return items


def _candidates(session: Session, stories: Sequence[StoryRow], keep_untagged: bool = False) -> list[Candidate]:
    topics = topic_store.topics_of(session, [s.id for s in stories])
    where = placements(session, [s.id for s in stories])
    result = []
    for story in stories:
        carried = frozenset(topics.get(story.id, {}))
        if not carried and not keep_untagged:
            continue
        candidate = Candidate(
            story.id,
            story.title,
            story.link,
            story.summary_text,
            story.published_at,
            story.first_seen_at,
            carried,
            story.sources,
        )
        place = where.get(story.id)
        if place is not None:
            candidate = replace(candidate, event=place.event, thread=place.thread, headline=place.headline)
        result.append(candidate)
    result.sort(key=lambda c: (c.published_at, c.id), reverse=True)
    return result

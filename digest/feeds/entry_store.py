"""Storing parsed entries as stories: de-duplication, in-place updates, second sources.

An entry is the same story as before when its feed already gave the same guid (else link, else
content hash); a new entry whose canonical link is already stored from another feed becomes a
second source of that story, not a second story.

Several feeds can be stored in one transaction (``save_feeds``), with the same results as storing
them one after another: the poll's writer does that to spend one round of statements on many feeds
instead of one round per feed. The statements themselves live in ``entry_queries``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from digest.db.locks import lock_for_transaction
from digest.feeds import entry_queries as queries
from digest.feeds.entry_queries import KnownSource, SourceRow

if TYPE_CHECKING:
    # Only for annotations: reading the feeds list must not load the parser (feedparser).
    from digest.feeds.models import Story
    from digest.feeds.parse import ParsedEntry


@dataclass(frozen=True, slots=True)
class SaveCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0  # new to this feed, already stored from another feed
    # Story id -> the entry it was created or updated from: what needs tagging.
    changed: dict[int, ParsedEntry] = field(default_factory=dict, compare=False)
    created: set[int] = field(default_factory=set, compare=False)  # the ids in ``changed`` that are new


@dataclass(frozen=True, slots=True)
class FeedEntries:
    """One feed's parsed entries, and when they were fetched (the time their stories are first seen)."""

    feed_id: int
    entries: Sequence[ParsedEntry]
    now: datetime


def save_entries(session: Session, feed_id: int, entries: Sequence[ParsedEntry], now: datetime) -> SaveCounts:
    """Insert new stories, update changed ones in place, attach sources to stories seen elsewhere."""
    (counts,) = save_feeds(session, [FeedEntries(feed_id, entries, now)])
    return counts


def save_feeds(session: Session, feeds: Sequence[FeedEntries]) -> list[SaveCounts]:
    """``save_entries`` for several feeds (each at most once) in the session's transaction, in order.

    Pollers storing at the same moment (several ``digest poll`` or ``digest run`` processes) store
    one after another: on SQLite the transaction holds the write lock, on PostgreSQL a lock taken
    first, so each sees what the one before committed and merges with it instead of adding its
    stories again. Every feed's updates are applied before any new entry is matched by link, so a
    story whose link an update changed is found under its new link by every feed of the batch.
    """
    if len({feed.feed_id for feed in feeds}) != len(feeds):
        raise ValueError("a feed can be stored only once per transaction")
    wanted: list[dict[str, ParsedEntry]] = []
    for feed in feeds:
        by_key: dict[str, ParsedEntry] = {}
        for entry in feed.entries:
            by_key.setdefault(dedup_key(entry), entry)  # a feed listing one entry twice counts it once
        wanted.append(by_key)
    lock_for_transaction(session, "stories")

    pairs = [(feed.feed_id, key) for feed, by_key in zip(feeds, wanted, strict=True) for key in by_key]
    known = queries.known_sources(session, pairs)
    tallies = [_Tally() for _ in feeds]
    _apply_revisions(session, feeds, wanted, known, tallies)

    fresh = [
        [(key, entry) for key, entry in by_key.items() if (feed.feed_id, key) not in known]
        for feed, by_key in zip(feeds, wanted, strict=True)
    ]
    links = {entry.link for entries in fresh for _, entry in entries if entry.link}
    matcher = _LinkMatcher(queries.stories_by_link(session, links, [feed.feed_id for feed in feeds]))
    new_rows: list[dict[str, Any]] = []
    planned: list[tuple[int, str, ParsedEntry, int | _Slot]] = []  # feed index, key, entry, story
    for index, (feed, entries) in enumerate(zip(feeds, fresh, strict=True)):
        feed_id = feed.feed_id
        made: list[tuple[str, _Slot]] = []
        used: set[str] = set()
        for key, entry in entries:
            # Only stories first carried by *other* feeds are merged with: within one feed, two entries
            # with different guids behind one link are two stories (a docket lists each filing under
            # one case page), and each stored story takes at most one entry of the feed.
            story: int | _Slot | None = None
            if entry.link and entry.link not in used:
                used.add(entry.link)
                story = matcher.take(entry.link, feed_id)
            if story is None:
                story = _Slot(len(new_rows), entry)
                new_rows.append(queries.story_row(entry, feed.now))
                if entry.link:
                    made.append((entry.link, story))
            planned.append((index, key, entry, story))
        matcher.add(made)  # the next feeds of the batch may merge with this one's new stories

    ids = queries.insert_stories(session, new_rows)
    rows = [
        SourceRow(
            ids[story.number] if isinstance(story, _Slot) else story, feeds[index].feed_id, key, entry, feeds[index].now
        )
        for index, key, entry, story in planned
    ]
    stored = queries.insert_sources(session, rows)
    # A new story belongs to the first entry whose source was stored: normally the one it was made
    # from; when that one lost its source to another transaction (which did not take the lock), a
    # later feed's entry merged with it, or, with neither, nobody (the story is removed again).
    owners: dict[int, int] = {}
    for number, ((_, _, _, story), row) in enumerate(zip(planned, rows, strict=True)):
        if isinstance(story, _Slot) and (row.feed_id, row.dedup_key) in stored:
            owners.setdefault(row.story_id, number)
    orphans = {row.story_id for (*_, story), row in zip(planned, rows, strict=True) if isinstance(story, _Slot)}
    orphans -= owners.keys()
    for number, ((index, _, _, story), row) in enumerate(zip(planned, rows, strict=True)):
        tally = tallies[index]
        if (row.feed_id, row.dedup_key) not in stored:
            tally.unchanged += 1  # stored meanwhile by a transaction that did not take the lock: kept
        elif isinstance(story, _Slot) and owners[row.story_id] == number:
            tally.changed[row.story_id] = story.entry  # what the story was made from
            tally.created.add(row.story_id)
        else:
            tally.merged += 1
    queries.delete_stories(session, orphans)
    return [tally.counts() for tally in tallies]


def dedup_key(entry: ParsedEntry) -> str:
    if entry.guid:
        return f"guid:{entry.guid}"
    if entry.link:
        return f"link:{entry.link}"
    return f"hash:{entry.content_hash}"


@dataclass(slots=True)
class _Tally:
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    changed: dict[int, ParsedEntry] = field(default_factory=dict)
    created: set[int] = field(default_factory=set)

    def counts(self) -> SaveCounts:
        return SaveCounts(
            new=len(self.created),
            updated=self.updated,
            unchanged=self.unchanged,
            merged=self.merged,
            changed=self.changed,
            created=self.created,
        )


@dataclass(frozen=True, slots=True)
class _Slot:
    """A story this batch creates: its place among the new rows and the entry it is made from."""

    number: int
    entry: ParsedEntry


class _LinkMatcher:
    """Which stored story a new entry with a given link merges with, for each feed in turn."""

    def __init__(self, stored: dict[str, list[tuple[int, frozenset[int]]]]) -> None:
        # Link -> stories with it, oldest first, each with the feeds of the batch already pointing to it.
        self._stored = stored
        self._made: dict[str, list[_Slot]] = {}

    def take(self, link: str, feed_id: int) -> int | _Slot | None:
        """The oldest story with this link that no entry of this feed points to yet."""
        for story_id, pointing in self._stored.get(link, ()):
            if feed_id not in pointing:
                return story_id
        made = self._made.get(link)
        return made[0] if made else None  # created by an earlier feed of this batch: newer than any stored

    def add(self, made: list[tuple[str, _Slot]]) -> None:
        for link, slot in made:
            self._made.setdefault(link, []).append(slot)


def _apply_revisions(
    session: Session,
    feeds: Sequence[FeedEntries],
    wanted: list[dict[str, ParsedEntry]],
    known: dict[tuple[int, str], KnownSource],
    tallies: list[_Tally],
) -> None:
    """Update in place the stories whose entries changed; count the rest of the known ones unchanged."""
    revised: list[tuple[int, KnownSource, ParsedEntry]] = []
    for index, (feed, by_key) in enumerate(zip(feeds, wanted, strict=True)):
        for key, entry in by_key.items():
            source = known.get((feed.feed_id, key))
            if source is None:
                continue
            if source.content_hash == entry.content_hash and entry.published_at in (None, source.published):
                tallies[index].unchanged += 1
            else:
                revised.append((index, source, entry))
    if not revised:
        return
    stories = queries.stories_by_id(session, {source.story_id for _, source, _ in revised})
    for index, source, entry in revised:  # in feed order: a story two feeds revised ends as the later one's
        _update_story(stories[source.story_id], entry, feeds[index].now)
        tallies[index].changed[source.story_id] = entry
        tallies[index].updated += 1
    queries.update_source_hashes(session, [(source.id, entry.content_hash) for _, source, entry in revised])


def _update_story(story: Story, entry: ParsedEntry, now: datetime) -> None:
    story.title = entry.title
    story.author = entry.author
    story.summary_text = entry.summary_text
    story.summary_html = entry.summary_html
    story.content_html = entry.content_html
    story.content_hash = entry.content_hash
    if entry.published_at is not None:
        story.published_at = entry.published_at
        story.published_guessed = False
    if entry.link:
        story.link = entry.link
    story.updated_at = now

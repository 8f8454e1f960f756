"""All SQL of the feeds domain: feeds and their poll state, stories and their sources.

``save_entries`` is where de-duplication happens: an entry is the same story as before when its feed
already gave the same guid (else link, else content hash); a new entry whose canonical link is already
stored from another feed becomes a second source of that story, not a second story.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Table, bindparam, case, delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from digest.db.bulk import insert_many
from digest.db.locks import lock_for_transaction
from digest.feeds.models import Feed, Story, StorySource

if TYPE_CHECKING:
    # Only for annotations: reading the feeds list must not load the parser (feedparser).
    from digest.feeds.parse import ParsedEntry

T = TypeVar("T")
_CHUNK = 500  # keeps IN (...) lists well under every backend's parameter limit
# The tables themselves: Core statements on the hot path skip the ORM's per-row bookkeeping.
_FEEDS: Table = Feed.__table__  # type: ignore[assignment]
_STORIES: Table = Story.__table__  # type: ignore[assignment]
_SOURCES: Table = StorySource.__table__  # type: ignore[assignment]


class FeedExists(Exception):
    """The feed is already stored, perhaps under another spelling of its address (``existing``)."""

    def __init__(self, url: str, existing: Feed) -> None:
        super().__init__(url)
        self.url = url
        self.existing_url = existing.url
        self.existing_title = existing.title
        self.existing_id = existing.id

    def describe(self) -> str:
        named = f"{self.existing_url} ({self.existing_title})" if self.existing_title else self.existing_url
        if self.existing_url == self.url:
            return f"the feed {self.url} is already added"
        return f"the feed {self.url} is already added as {named}"


class FeedNotFound(Exception):
    """No feed has this URL or id."""


@dataclass(frozen=True, slots=True)
class SaveCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0  # new to this feed, already stored from another feed
    # Story id -> the entry it was created or updated from: what needs tagging.
    changed: dict[int, ParsedEntry] = field(default_factory=dict, compare=False)
    created: set[int] = field(default_factory=set, compare=False)  # the ids in ``changed`` that are new


def add_feed(
    session: Session, url: str, title: str | None, now: datetime, *, interval_minutes: int | None = None
) -> Feed:
    existing = same_feed(session, url)
    if existing is not None:
        raise FeedExists(url, existing)  # the usual case, found without a failed INSERT
    feed = Feed(
        url=url,
        title=title,
        status="new",
        interval_minutes=interval_minutes,
        next_poll_at=now,
        created_at=now,
        error_count=0,
    )
    try:
        with session.begin_nested():  # added by another process since the check (PostgreSQL)
            session.add(feed)
    except IntegrityError:
        existing = same_feed(session, url)
        if existing is None:
            raise
        raise FeedExists(url, existing) from None
    return feed


def same_feed(session: Session, url: str, *, other_than: int | None = None) -> Feed | None:
    """The stored feed whose address is ``url`` under another spelling (see ``feed_key``), if any."""
    from digest.feeds.normalise import feed_key  # here: listing feeds must not load the sanitiser (nh3)

    key = feed_key(url)
    for feed in session.scalars(select(Feed).order_by(Feed.id)):
        if feed.id != other_than and (feed.url == url or (key is not None and feed_key(feed.url) == key)):
            return feed
    return None


def feed_by_id(session: Session, feed_id: int) -> Feed:
    feed = session.get(Feed, feed_id)
    if feed is None:
        raise FeedNotFound(str(feed_id))
    return feed


def update_feed(
    session: Session, feed_id: int, *, url: str, title: str | None, interval_minutes: int | None, now: datetime
) -> Feed:
    """Change a feed's address, title or interval; a new address is polled at the next poll, afresh."""
    feed = feed_by_id(session, feed_id)
    existing = same_feed(session, url, other_than=feed_id)
    if existing is not None:
        raise FeedExists(url, existing)
    if url != feed.url:
        # Validators and errors belonged to the old address.
        feed.url, feed.etag, feed.last_modified = url, None, None
        feed.error_count, feed.last_error = 0, None
        if feed.status not in ("paused",):
            feed.status, feed.next_poll_at = "new", now
    feed.title = title
    feed.interval_minutes = interval_minutes
    session.flush()
    return feed


def delete_feed(session: Session, feed_id: int) -> tuple[Feed, int]:
    """Delete a feed; its stories stay (they lose this source). Returns the feed and its story count."""
    feed = feed_by_id(session, feed_id)
    stories = session.scalar(select(func.count()).select_from(StorySource).where(StorySource.feed_id == feed_id))
    session.execute(delete(StorySource).where(StorySource.feed_id == feed_id))
    session.delete(feed)
    session.flush()
    return feed, int(stories or 0)


def set_paused(session: Session, feed_id: int, paused: bool, now: datetime) -> Feed:
    """Pause a feed (it is not polled) or resume it (polled at the next poll)."""
    feed = session.get(Feed, feed_id)
    if feed is None:
        raise FeedNotFound(str(feed_id))
    if paused:
        feed.status = "paused"
    elif feed.status == "paused":
        feed.status, feed.next_poll_at = "new", now
    return feed


def get_feed(session: Session, url: str) -> Feed:
    feed = session.scalar(select(Feed).where(Feed.url == url))
    if feed is None:
        raise FeedNotFound(url)
    return feed


def list_feeds(session: Session) -> list[tuple[Feed, int]]:
    """Every feed with the number of stories it has contributed, oldest feed first."""
    counts = select(StorySource.feed_id, func.count().label("n")).group_by(StorySource.feed_id).subquery()
    rows = session.execute(
        select(Feed, func.coalesce(counts.c.n, 0)).outerjoin(counts, counts.c.feed_id == Feed.id).order_by(Feed.id)
    )
    return [(feed, int(n)) for feed, n in rows]


def count_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(select(Feed.status, func.count()).group_by(Feed.status))
    return {status: int(n) for status, n in rows}


def claim_due_feeds(
    session: Session,
    now: datetime,
    lease: timedelta,
    *,
    include_not_due: bool = False,
    only: Iterable[int] | None = None,
) -> list[Feed]:
    """Feeds to poll now (due ones, or every active one), taken for ``lease``: other pollers skip them
    (FOR UPDATE SKIP LOCKED, then a next poll time pushed past the lease); disabled and paused never."""
    query = select(Feed).where(Feed.status.not_in(("disabled", "paused"))).order_by(Feed.next_poll_at, Feed.id)
    if not include_not_due:
        query = query.where(Feed.next_poll_at <= now)
    if only is not None:
        query = query.where(Feed.id.in_(list(only)))
    feeds = list(session.scalars(query.with_for_update(skip_locked=True)))
    for feed in feeds:
        feed.next_poll_at = now + lease  # the poll's outcome sets the real time; a dead poller's feeds come back
    session.flush()
    return feeds


def record_poll(
    session: Session,
    feed_id: int,
    *,
    now: datetime,
    next_poll_at: datetime,
    status: str,
    error: str | None = None,
    moved_to: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    title: str | None = None,
    site_url: str | None = None,
) -> None:
    """Store the outcome of one poll: status, error count, validators, next poll time (one UPDATE)."""
    values: dict[str, Any] = {"last_polled_at": now, "next_poll_at": next_poll_at, "status": status}
    if status == "ok":
        values.update(error_count=0, last_error=None, last_success_at=now)
    elif error is not None:
        values.update(error_count=_FEEDS.c.error_count + 1, last_error=error)
    if moved_to and same_feed(session, moved_to, other_than=feed_id) is None:
        # Never onto another feed's address, however it is spelled.
        other = _FEEDS.alias("other")
        taken = exists().where(other.c.url == moved_to)  # by this feed (no move) or by another one
        values["url"] = case((taken, _FEEDS.c.url), else_=moved_to)
    if etag is not None or last_modified is not None:
        values.update(etag=etag, last_modified=last_modified)
    if title:
        values["title"] = case((func.coalesce(_FEEDS.c.title, "") == "", title), else_=_FEEDS.c.title)
    if site_url:
        values["site_url"] = site_url
    session.execute(update(_FEEDS).where(_FEEDS.c.id == feed_id).values(values))


def save_entries(session: Session, feed_id: int, entries: Sequence[ParsedEntry], now: datetime) -> SaveCounts:
    """Insert new stories, update changed ones in place, attach sources to stories seen elsewhere.

    Pollers storing at the same moment (several ``digest poll`` or ``digest run`` processes) store
    one after another: on SQLite the transaction holds the write lock, on PostgreSQL a lock taken
    first, so each sees what the one before committed and merges with it instead of adding its
    stories again. Few statements and plain rows (no ORM objects) for new entries, the common case.
    """
    by_key: dict[str, ParsedEntry] = {}
    for entry in entries:
        by_key.setdefault(dedup_key(entry), entry)  # a feed listing one entry twice counts it once
    lock_for_transaction(session, "stories")

    known = _known_sources(session, feed_id, list(by_key))
    updated = 0
    changed: dict[int, ParsedEntry] = {}
    created: set[int] = set()
    revised = {
        key: source
        for key, source in known.items()
        if not (
            source.content_hash == by_key[key].content_hash and by_key[key].published_at in (None, source.published)
        )
    }
    unchanged = len(known) - len(revised)
    if revised:
        stories = _stories_by_id(session, {source.story_id for source in revised.values()})
        for key, source in revised.items():
            _update_story(stories[source.story_id], by_key[key], now)
            changed[source.story_id] = by_key[key]
        session.execute(
            update(_SOURCES).where(_SOURCES.c.id == bindparam("source_id")),
            [{"source_id": source.id, "content_hash": by_key[key].content_hash} for key, source in revised.items()],
        )
        updated = len(revised)

    fresh = [(key, entry) for key, entry in by_key.items() if key not in known]
    # Only stories first carried by *other* feeds are merged with: within one feed, two entries with
    # different guids behind one link are two stories (a docket lists each filing under one case page).
    by_link = _stories_elsewhere_by_link(session, feed_id, {e.link for _, e in fresh if e.link})
    story_ids: list[int | None] = []
    new_rows: list[dict[str, Any]] = []
    for _key, entry in fresh:
        elsewhere = by_link.pop(entry.link, None) if entry.link else None
        story_ids.append(elsewhere)
        if elsewhere is None:
            new_rows.append(_story_row(entry, now))
    inserted = iter(insert_many(session, _STORIES, new_rows, returning=_STORIES.c.id))
    assigned: list[int] = []
    for (_key, entry), story_id in zip(fresh, story_ids, strict=True):
        if story_id is None:
            story_id = next(inserted)
            changed[story_id] = entry
            created.add(story_id)
        assigned.append(story_id)
    lost = _insert_sources(session, feed_id, fresh, assigned, now)
    if lost:
        # Stored meanwhile by a transaction that did not take the lock: keep its rows, drop ours.
        orphans = {story_id for (key, _), story_id in zip(fresh, assigned, strict=True) if key in lost} & created
        session.execute(delete(_STORIES).where(_STORIES.c.id.in_(sorted(orphans))))
        for story_id in orphans:
            changed.pop(story_id)
        created -= orphans
        unchanged += len(lost)
    merged = len(fresh) - len(lost) - len(created)
    return SaveCounts(
        new=len(created), updated=updated, unchanged=unchanged, merged=merged, changed=changed, created=created
    )


def dedup_key(entry: ParsedEntry) -> str:
    if entry.guid:
        return f"guid:{entry.guid}"
    if entry.link:
        return f"link:{entry.link}"
    return f"hash:{entry.content_hash}"


def _story_row(entry: ParsedEntry, now: datetime) -> dict[str, Any]:
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


@dataclass(frozen=True, slots=True)
class _KnownSource:
    id: int
    story_id: int
    content_hash: str
    published: datetime


def _known_sources(session: Session, feed_id: int, keys: list[str]) -> dict[str, _KnownSource]:
    """This feed's sources with these keys, with their story's publication time."""
    known: dict[str, _KnownSource] = {}
    for chunk in _chunks(keys):
        query = (
            select(
                StorySource.dedup_key,
                StorySource.id,
                StorySource.story_id,
                StorySource.content_hash,
                Story.published_at,
            )
            .join(Story, Story.id == StorySource.story_id)
            .where(StorySource.feed_id == feed_id, StorySource.dedup_key.in_(chunk))
        )
        for key, source_id, story_id, source_hash, published in session.execute(query):
            known[key] = _KnownSource(source_id, story_id, source_hash, published)
    return known


def _insert_sources(
    session: Session,
    feed_id: int,
    fresh: list[tuple[str, ParsedEntry]],
    story_ids: list[int],
    now: datetime,
) -> set[str]:
    """Insert this feed's new sources; returns the keys that another transaction stored first."""
    if not fresh:
        return set()
    rows = [
        {
            "story_id": story_id,
            "feed_id": feed_id,
            "dedup_key": key,
            "guid": entry.guid,
            "link": entry.link,
            "content_hash": entry.content_hash,
            "first_seen_at": now,
        }
        for (key, entry), story_id in zip(fresh, story_ids, strict=True)
    ]
    # Idempotent: an entry another transaction stored first is left to it.
    stored = set(
        insert_many(session, _SOURCES, rows, returning=_SOURCES.c.dedup_key, skip_conflicts=("feed_id", "dedup_key"))
    )
    return {key for key, _ in fresh} - stored


def _stories_by_id(session: Session, ids: set[int]) -> dict[int, Story]:
    found: dict[int, Story] = {}
    for chunk in _chunks(sorted(ids)):
        found.update({s.id: s for s in session.scalars(select(Story).where(Story.id.in_(chunk)))})
    return found


def _stories_elsewhere_by_link(session: Session, feed_id: int, links: set[str | None]) -> dict[str | None, int]:
    """Ids of stories with these links that no entry of this feed points to yet, oldest first per link."""
    found: dict[str | None, int] = {}
    mine = select(StorySource.story_id).where(StorySource.feed_id == feed_id)
    for chunk in _chunks(sorted(link for link in links if link)):
        query = select(Story.link, Story.id).where(Story.link.in_(chunk), Story.id.not_in(mine)).order_by(Story.id)
        for link, story_id in session.execute(query):
            found.setdefault(link, story_id)
    return found


def _chunks(items: list[T]) -> Iterable[list[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]

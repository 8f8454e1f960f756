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

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from digest.feeds.models import Feed, Story, StorySource

if TYPE_CHECKING:
    # Only for annotations: reading the feeds list must not load the parser (feedparser).
    from digest.feeds.parse import ParsedEntry

T = TypeVar("T")
_CHUNK = 500  # keeps IN (...) lists well under every backend's parameter limit


class FeedExists(Exception):
    """A feed with this URL is already stored."""


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
    if session.scalar(select(Feed.id).where(Feed.url == url)) is not None:
        raise FeedExists(url)
    feed = Feed(
        url=url,
        title=title,
        status="new",
        interval_minutes=interval_minutes,
        next_poll_at=now,
        created_at=now,
        error_count=0,
    )
    session.add(feed)
    session.flush()
    return feed


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
) -> Feed:
    """Store the outcome of one poll: status, error count, validators, next poll time."""
    feed = session.get_one(Feed, feed_id)
    feed.last_polled_at = now
    feed.next_poll_at = next_poll_at
    feed.status = status
    if status in ("ok",):
        feed.error_count = 0
        feed.last_error = None
        feed.last_success_at = now
    elif error is not None:
        feed.error_count += 1
        feed.last_error = error
    if moved_to and moved_to != feed.url and session.scalar(select(Feed.id).where(Feed.url == moved_to)) is None:
        feed.url = moved_to
    if etag is not None or last_modified is not None:
        feed.etag = etag
        feed.last_modified = last_modified
    if title and not feed.title:
        feed.title = title
    if site_url:
        feed.site_url = site_url
    return feed


def save_entries(session: Session, feed_id: int, entries: Sequence[ParsedEntry], now: datetime) -> SaveCounts:
    """Insert new stories, update changed ones in place, attach sources to stories seen elsewhere."""
    by_key: dict[str, ParsedEntry] = {}
    for entry in entries:
        by_key.setdefault(dedup_key(entry), entry)  # a feed listing one entry twice counts it once

    known: dict[str, StorySource] = {}
    for chunk in _chunks(list(by_key)):
        query = select(StorySource).where(StorySource.feed_id == feed_id, StorySource.dedup_key.in_(chunk))
        known.update({source.dedup_key: source for source in session.scalars(query)})

    updated = unchanged = 0
    changed: dict[int, ParsedEntry] = {}
    created: set[int] = set()
    stories = _stories_by_id(session, {source.story_id for source in known.values()})
    for key, source in known.items():
        entry = by_key[key]
        story = stories[source.story_id]
        if source.content_hash == entry.content_hash and entry.published_at in (None, story.published_at):
            unchanged += 1
            continue
        source.content_hash = entry.content_hash
        _update_story(story, entry, now)
        changed[story.id] = entry
        updated += 1

    fresh = [(key, entry) for key, entry in by_key.items() if key not in known]
    # Only stories first carried by *other* feeds are merged with: within one feed, two entries with
    # different guids behind one link are two stories (a docket lists each filing under one case page).
    by_link = _stories_elsewhere_by_link(session, feed_id, {e.link for _, e in fresh if e.link})
    story_ids: list[int | None] = []
    new_rows: list[dict[str, Any]] = []
    for _key, entry in fresh:
        elsewhere = by_link.pop(entry.link, None) if entry.link else None
        story_ids.append(elsewhere.id if elsewhere else None)
        if elsewhere is None:
            new_rows.append(_story_row(entry, now))
    # Bulk Core inserts: one round trip per few hundred rows instead of the ORM's per-object work.
    if new_rows:
        inserted = iter(
            session.scalars(insert(Story).returning(Story.id, sort_by_parameter_order=True), new_rows).all()
        )
        for i, story_id in enumerate(story_ids):
            if story_id is None:
                new_id = next(inserted)
                story_ids[i] = new_id
                changed[new_id] = fresh[i][1]
                created.add(new_id)
    if fresh:
        session.execute(
            insert(StorySource),
            [
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
            ],
        )
    session.flush()
    merged = len(fresh) - len(new_rows)
    return SaveCounts(
        new=len(new_rows), updated=updated, unchanged=unchanged, merged=merged, changed=changed, created=created
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


def _stories_by_id(session: Session, ids: set[int]) -> dict[int, Story]:
    found: dict[int, Story] = {}
    for chunk in _chunks(sorted(ids)):
        found.update({s.id: s for s in session.scalars(select(Story).where(Story.id.in_(chunk)))})
    return found


def _stories_elsewhere_by_link(session: Session, feed_id: int, links: set[str | None]) -> dict[str | None, Story]:
    """Stories with these links that no entry of this feed points to yet, oldest first per link."""
    found: dict[str | None, Story] = {}
    mine = select(StorySource.story_id).where(StorySource.feed_id == feed_id)
    for chunk in _chunks(sorted(link for link in links if link)):
        query = select(Story).where(Story.link.in_(chunk), Story.id.not_in(mine)).order_by(Story.id)
        for story in session.scalars(query):
            found.setdefault(story.link, story)
    return found


def _chunks(items: list[T]) -> Iterable[list[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]

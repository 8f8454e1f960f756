"""The feeds themselves: adding, finding, changing, pausing and deleting them, and listing them.

A feed's poll state (when it is due, what the last poll found) is kept by ``poll_store``; the
stories its entries become, by ``entry_store``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from digest.feeds.models import Feed, StorySource


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

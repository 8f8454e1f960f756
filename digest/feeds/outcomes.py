"""What a poll stores for each fetched feed: its new and changed stories, their topics, its poll state.

``store_arrivals`` stores several feeds in one transaction; each feed's outcome (new, not modified,
gone, an error) decides its poll state and next poll time, exactly as if it were stored alone.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from digest.config import FeedSettings
from digest.db.engine import session_scope
from digest.events.scoring import Story
from digest.feeds import entry_store, poll_store, topic_store
from digest.feeds.entry_store import FeedEntries
from digest.feeds.fetch import FetchResult
from digest.feeds.parse import ParsedEntry, ParsedFeed
from digest.feeds.poll_store import PollRecord
from digest.feeds.reading import tag_text
from digest.tagging.rules import Ruleset
from digest.tagging.tagger import Tagging

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    url: str
    status: str  # ok, not-modified, error, gone
    new: int = 0
    updated: int = 0
    merged: int = 0
    message: str | None = None
    # The new stories, as grouping reads them: they are grouped at the end of the poll.
    stories: tuple[Story, ...] = ()


@dataclass(frozen=True, slots=True)
class Arrival:
    """One fetched feed, parsed (or the reason it could not be), ready to store."""

    result: FetchResult
    parsed: ParsedFeed | None
    error: str | None
    now: datetime
    interval_minutes: int
    error_count: int  # consecutive errors before this poll
    # Each entry's topics, when the parser worker worked them out; else they are worked out here.
    taggings: Mapping[ParsedEntry, Tagging] | None = None

    @property
    def feed_id(self) -> int:
        return self.result.request.feed_id


def next_poll_time(
    now: datetime,
    interval_minutes: int,
    *,
    error_count: int = 0,
    retry_after: timedelta | None = None,
    settings: FeedSettings,
) -> datetime:
    """The regular interval, doubled for each consecutive error up to the cap, never before Retry-After."""
    delay = timedelta(minutes=interval_minutes)
    if error_count > 0:
        backoff = timedelta(minutes=interval_minutes * 2 ** min(error_count - 1, 16))
        delay = min(backoff, timedelta(minutes=settings.max_backoff_minutes))
    if retry_after is not None:
        delay = max(delay, min(retry_after, timedelta(minutes=settings.max_retry_after_minutes)))
    return now + delay


def store_arrivals(
    bind: Connection, settings: FeedSettings, ruleset: Ruleset, arrivals: Sequence[Arrival]
) -> list[FeedOutcome]:
    """Store these feeds' results in one transaction; one outcome per arrival, in order."""
    parsed = [a for a in arrivals if a.parsed is not None and not _unchanged(a) and a.error is None]
    with session_scope(bind) as session:
        saved = entry_store.save_feeds(
            session, [FeedEntries(a.feed_id, a.parsed.entries, a.now) for a in parsed if a.parsed is not None]
        )
        counts = {a.feed_id: c for a, c in zip(parsed, saved, strict=True)}
        taggings: dict[int, tuple[Sequence[str], Mapping[str, list[str]]]] = {}
        created: set[int] = set()
        for arrival in parsed:
            for story_id, entry in counts[arrival.feed_id].changed.items():
                tagging = _tagging(arrival, ruleset, entry)
                taggings[story_id] = (tagging.topics, tagging.why)
            created |= counts[arrival.feed_id].created
        if taggings:
            topic_store.save_taggings(session, taggings, max(a.now for a in parsed), new=created)
        records = [_record(settings, a) for a in arrivals]
        poll_store.record_polls(session, records)
    return [_outcome(a, counts.get(a.feed_id), r) for a, r in zip(arrivals, records, strict=True)]


def _unchanged(arrival: Arrival) -> bool:
    return arrival.result.not_modified or arrival.result.gone


def _tagging(arrival: Arrival, ruleset: Ruleset, entry: ParsedEntry) -> Tagging:
    known = arrival.taggings.get(entry) if arrival.taggings is not None else None
    return known if known is not None else tag_text(ruleset, entry.title, entry.summary_text, entry.content_html)


def _record(settings: FeedSettings, arrival: Arrival) -> PollRecord:
    result, now = arrival.result, arrival.now
    regular = next_poll_time(now, arrival.interval_minutes, settings=settings)
    feed_id = arrival.feed_id
    if result.not_modified:
        return PollRecord(feed_id, now, regular, "ok", moved_to=result.moved_to)
    if result.gone:
        error = "HTTP 410 Gone: the publisher removed this feed; polling stopped"
        return PollRecord(feed_id, now, regular, "disabled", error=error)
    if arrival.parsed is None or arrival.error is not None:
        when = next_poll_time(
            now,
            arrival.interval_minutes,
            error_count=arrival.error_count + 1,
            retry_after=result.retry_after,
            settings=settings,
        )
        return PollRecord(feed_id, now, when, "error", error=arrival.error, moved_to=result.moved_to)
    return PollRecord(
        feed_id,
        now,
        regular,
        "ok",
        moved_to=result.moved_to,
        etag=result.etag,
        last_modified=result.last_modified,
        title=arrival.parsed.title,
        site_url=arrival.parsed.site_url,
    )


def _outcome(arrival: Arrival, counts: entry_store.SaveCounts | None, record: PollRecord) -> FeedOutcome:
    url = arrival.result.request.url
    if arrival.result.not_modified:
        log.info("feed %s: not modified", url)
        return FeedOutcome(url, "not-modified")
    if arrival.result.gone:
        log.warning("feed %s: gone (410), disabled", url)
        return FeedOutcome(url, "gone", message="HTTP 410 Gone")
    if counts is None or arrival.parsed is None:
        log.warning("feed %s: %s (next try %s)", url, arrival.error, record.next_poll_at.isoformat(timespec="minutes"))
        return FeedOutcome(url, "error", message=arrival.error)
    message = arrival.parsed.warning and f"read with a warning: {arrival.parsed.warning}"
    log.info(
        "feed %s: %d new, %d updated, %d merged%s",
        url,
        counts.new,
        counts.updated,
        counts.merged,
        f" ({message})" if message else "",
    )
    # As the store wrote them (a story without a date is dated when it was first seen).
    stories = tuple(
        Story(str(sid), entry.title, entry.summary_text, entry.published_at or arrival.now, str(arrival.feed_id))
        for sid, entry in counts.changed.items()
        if sid in counts.created
    )
    return FeedOutcome(url, "ok", counts.new, counts.updated, counts.merged, message, stories)

"""One poll: fetch every due feed, parse, tag, store, schedule each feed's next poll, then group.

Feeds are fetched concurrently; each result is parsed and stored in its own transaction as soon as it
arrives, so a feed that fails (network, HTTP, garbage, an XML bomb) records its error and the poll goes
on with the others, and nothing stored before is touched. Once every feed is stored, the poll's new
stories are grouped into events and threads in one transaction against the recent window (read once
per poll, not once per feed).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from digest.config import FeedSettings
from digest.db.engine import session_scope
from digest.events.group import group_new_stories
from digest.feeds import store
from digest.feeds.fetch import FetchRequest, FetchResult, fetch_feeds
from digest.feeds.parse import ParsedFeed, ParseError, parse_feed
from digest.feeds.retag import tag_and_save
from digest.tagging.rules import Ruleset

log = logging.getLogger(__name__)

# Starting worker processes costs a few tenths of a second: worth it only for polls of many feeds.
MIN_FEEDS_FOR_WORKERS = 30


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    url: str
    status: str  # ok, not-modified, error, gone
    new: int = 0
    updated: int = 0
    merged: int = 0
    message: str | None = None
    created: frozenset[int] = frozenset()  # ids of the new stories, grouped at the end of the poll


@dataclass(slots=True)
class PollReport:
    outcomes: list[FeedOutcome] = field(default_factory=list)
    grouped: int = 0  # new stories put into events and threads by this poll

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def new_stories(self) -> int:
        return sum(o.new for o in self.outcomes)

    @property
    def updated_stories(self) -> int:
        return sum(o.updated for o in self.outcomes)


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


def poll_feeds(
    engine: Engine,
    settings: FeedSettings,
    user_agent: str,
    ruleset: Ruleset,
    *,
    all_feeds: bool = False,
    only: Collection[int] | None = None,
    now: datetime | None = None,
    on_start: Callable[[int], None] | None = None,
    on_feed: Callable[[FeedOutcome], None] | None = None,
) -> PollReport:
    """Poll every due feed once (every active feed with ``all_feeds``; only these ids with ``only``)."""
    now = now or datetime.now(UTC)
    lease = timedelta(seconds=settings.timeout_seconds * 4 + 600)
    with session_scope(engine) as session:
        feeds = store.claim_due_feeds(session, now, lease, include_not_due=all_feeds, only=only)
        requests = [FetchRequest(f.id, f.url, f.etag, f.last_modified) for f in feeds]
        state = {f.id: (f.interval_minutes or settings.default_interval_minutes, f.error_count) for f in feeds}
    if on_start:
        on_start(len(requests))
    report = PollReport()
    held = _HeldConnection(engine)

    def record(result: FetchResult, parsed: ParsedFeed | None, error: str | None, now: datetime) -> None:
        interval, errors = state[result.request.feed_id]
        try:
            outcome = _store_result(held.get(), settings, ruleset, result, parsed, error, interval, errors, now)
        except SQLAlchemyError as exc:
            # Rolled back: the feed keeps its previous state and is tried again at the next poll.
            held.close()  # the next feed starts on a fresh connection, in case this one broke
            log.exception("feed %s: could not be stored", result.request.url)
            outcome = FeedOutcome(result.request.url, "error", message=f"could not be stored: {type(exc).__name__}")
        report.outcomes.append(outcome)
        if on_feed:
            on_feed(outcome)

    async def handle(result: FetchResult, parsers: Executor | None, writer: Executor) -> None:
        loop = asyncio.get_running_loop()
        now = datetime.now(UTC)
        parsed, error = None, result.error
        if error is None and not (result.not_modified or result.gone):
            if parsers is None:
                parsed, error = _read_result(settings, result, now)
            else:
                try:
                    parsed, error = await loop.run_in_executor(parsers, _read_result, settings, result, now)
                except BrokenProcessPool:  # a parser process died (out of memory?): parse here instead
                    parsed, error = _read_result(settings, result, now)
        await loop.run_in_executor(writer, record, result, parsed, error, now)

    async def run() -> None:
        # Three stages overlap: fetching (this event loop), parsing (worker processes, one per core, as
        # feedparser is pure Python), storing (one writer thread; the database drivers release the
        # interpreter while they wait for the server or the disk).
        with (
            _parser_pool(settings, len(requests)) as parsers,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="digest-store") as writer,
        ):
            tasks: set[asyncio.Task[None]] = set()
            try:
                async for result in fetch_feeds(requests, settings, user_agent):
                    tasks.add(asyncio.create_task(handle(result, parsers, writer)))
                    if len(tasks) >= 2 * settings.concurrency:  # bounds the feeds held in memory
                        _done, tasks = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                await asyncio.gather(*tasks)
            finally:
                writer.submit(held.close)  # in the thread that used it, after the last store

    if requests:
        asyncio.run(run())
    report.grouped = _group_new(engine, now, {i for o in report.outcomes for i in o.created})
    return report


def _group_new(engine: Engine, now: datetime, story_ids: set[int]) -> int:
    """Put the poll's new stories into events and threads. A failure here costs only the grouping:
    the stories are stored and ``digest events regroup`` groups whatever was left ungrouped."""
    if not story_ids:
        return 0
    try:
        with session_scope(engine) as session:
            return group_new_stories(session, now, story_ids)
    except SQLAlchemyError:
        log.exception("%d new stories could not be grouped into events", len(story_ids))
        return 0


class _HeldConnection:
    """The writer thread's one database connection for the whole poll.

    Taking a connection from the pool for each feed would cost a round trip to the server for every
    feed (the pool's liveness check on PostgreSQL). After a database error the connection is closed
    and the next feed takes a fresh one.

    On PostgreSQL its commits do not wait for the server's disk (``synchronous_commit = off``): each
    feed's stories and its poll state are one transaction, so a server crash can only lose the last
    feeds stored as a whole, and those are simply fetched again at the next poll, while waiting for a
    flush after every feed held the poll up. Large stories are compressed with lz4 where the server
    has it, which costs its share of the two cores a fraction of the default (pglz).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None

    def get(self) -> Connection:
        if self._connection is None:
            self._connection = self._engine.connect()
            if self._connection.dialect.name == "postgresql":
                _tune_for_polling(self._connection)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _tune_for_polling(connection: Connection) -> None:
    """Session settings of the writer's connection (see _HeldConnection), for PostgreSQL."""
    connection.exec_driver_sql("SET synchronous_commit = off")
    lz4 = connection.exec_driver_sql(
        "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)"
    ).first()
    if lz4 is not None:
        connection.exec_driver_sql("SET default_toast_compression = lz4")
    connection.commit()  # session settings outlive the transaction; every feed's own begins after


@contextmanager
def _parser_pool(settings: FeedSettings, feeds: int) -> Iterator[Executor | None]:
    """Worker processes for parsing, or None to parse in this process (one core, or a small poll)."""
    workers = settings.parse_workers or os.cpu_count() or 1
    if workers < 2 or feeds < MIN_FEEDS_FOR_WORKERS:
        yield None
        return
    # forkserver: workers start from a clean process, not a fork of one running threads and a loop.
    with ProcessPoolExecutor(max_workers=min(workers, feeds), mp_context=get_context("forkserver")) as pool:
        yield pool


def _read_result(settings: FeedSettings, result: FetchResult, now: datetime) -> tuple[ParsedFeed | None, str | None]:
    """The parsed feed, or the reason it could not be read. Runs in a worker process."""
    try:
        parsed = parse_feed(
            result.body or b"",
            result.moved_to or result.request.url,
            content_type=result.content_type,
            now=now,
            summary_chars=settings.summary_chars,
            title_chars=settings.title_chars,
            max_bytes=settings.max_bytes,
        )
    except ParseError as exc:
        return None, str(exc)
    except Exception as exc:  # a parser bug must cost one feed, never the whole poll
        log.exception("feed %s: unexpected failure while parsing", result.request.url)
        return None, f"could not be parsed ({type(exc).__name__}: {exc})"
    return parsed, None


def _store_result(
    bind: Connection,
    settings: FeedSettings,
    ruleset: Ruleset,
    result: FetchResult,
    parsed: ParsedFeed | None,
    error: str | None,
    interval: int,
    errors: int,
    now: datetime,
) -> FeedOutcome:
    feed_id, url = result.request.feed_id, result.request.url
    regular = next_poll_time(now, interval, settings=settings)
    if result.not_modified:
        with session_scope(bind) as session:
            store.record_poll(session, feed_id, now=now, next_poll_at=regular, status="ok", moved_to=result.moved_to)
        log.info("feed %s: not modified", url)
        return FeedOutcome(url, "not-modified")
    if result.gone:
        with session_scope(bind) as session:
            store.record_poll(
                session,
                feed_id,
                now=now,
                next_poll_at=regular,
                status="disabled",
                error="HTTP 410 Gone: the publisher removed this feed; polling stopped",
            )
        log.warning("feed %s: gone (410), disabled", url)
        return FeedOutcome(url, "gone", message="HTTP 410 Gone")
    if parsed is None:
        assert error is not None
        when = next_poll_time(now, interval, error_count=errors + 1, retry_after=result.retry_after, settings=settings)
        with session_scope(bind) as session:
            store.record_poll(
                session, feed_id, now=now, next_poll_at=when, status="error", error=error, moved_to=result.moved_to
            )
        log.warning("feed %s: %s (next try %s)", url, error, when.isoformat(timespec="minutes"))
        return FeedOutcome(url, "error", message=error)

    with session_scope(bind) as session:
        counts = store.save_entries(session, feed_id, parsed.entries, now)
        stories = {sid: (e.title, e.summary_text, e.content_html) for sid, e in counts.changed.items()}
        tag_and_save(session, ruleset, stories, now, new=counts.created)
        store.record_poll(
            session,
            feed_id,
            now=now,
            next_poll_at=regular,
            status="ok",
            moved_to=result.moved_to,
            etag=result.etag,
            last_modified=result.last_modified,
            title=parsed.title,
            site_url=parsed.site_url,
        )
    message = parsed.warning and f"read with a warning: {parsed.warning}"
    log.info(
        "feed %s: %d new, %d updated, %d merged%s",
        url,
        counts.new,
        counts.updated,
        counts.merged,
        f" ({message})" if message else "",
    )
    return FeedOutcome(url, "ok", counts.new, counts.updated, counts.merged, message, frozenset(counts.created))

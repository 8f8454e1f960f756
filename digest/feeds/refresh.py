"""One poll: fetch every due feed, parse, tag, store, schedule each feed's next poll, then group.

Feeds are fetched concurrently; each result is parsed (and its entries tagged) as soon as it arrives
and handed to the writer (digest.feeds.writer), which stores it, with its poll state, in a
transaction of its own or shared with the other feeds waiting at that moment. A feed that fails
(network, HTTP, garbage, an XML bomb) records its error and the poll goes on with the others, and
nothing stored before is touched. Once every feed is stored, the poll's new stories are grouped into
events and threads in one transaction against the recent window (read once per poll, not once per
feed).
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

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from digest.config import FeedSettings
from digest.db.engine import session_scope
from digest.events.group import group_new_stories
from digest.feeds import poll_store
from digest.feeds.fetch import FetchRequest, FetchResult, fetch_feeds
from digest.feeds.outcomes import Arrival, FeedOutcome, next_poll_time, store_arrivals
from digest.feeds.parse import ParsedFeed, ParseError, parse_feed
from digest.feeds.writer import BatchWriter
from digest.tagging.rules import Ruleset

__all__ = ["FeedOutcome", "PollReport", "next_poll_time", "poll_feeds"]
log = logging.getLogger(__name__)

# Starting worker processes costs a few tenths of a second: worth it only for polls of many feeds.
MIN_FEEDS_FOR_WORKERS = 30


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
        feeds = poll_store.claim_due_feeds(session, now, lease, include_not_due=all_feeds, only=only)
        requests = [FetchRequest(f.id, f.url, f.etag, f.last_modified) for f in feeds]
        state = {f.id: (f.interval_minutes or settings.default_interval_minutes, f.error_count) for f in feeds}
    if on_start:
        on_start(len(requests))
    report = PollReport()

    def stored(outcome: FeedOutcome) -> None:  # in the writer's thread, once the feed is committed
        report.outcomes.append(outcome)
        if on_feed:
            on_feed(outcome)

    async def handle(result: FetchResult, parsers: Executor | None, writer: BatchWriter) -> None:
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
        interval, errors = state[result.request.feed_id]
        arrival = Arrival(result, parsed, error, now, interval, errors)
        await asyncio.wrap_future(writer.submit(arrival))  # done once committed: bounds what is in memory

    async def run() -> None:
        # Three stages overlap: fetching (this event loop), parsing (worker processes, one per core, as
        # feedparser is pure Python), storing (one writer thread; the database drivers release the
        # interpreter while they wait for the server or the disk).
        with (
            _parser_pool(settings, len(requests)) as parsers,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="digest-store") as thread,
        ):
            writer = BatchWriter(
                engine,
                thread,
                lambda bind, arrivals: store_arrivals(bind, settings, ruleset, arrivals),
                max_feeds=settings.store_batch_feeds,
                on_stored=stored,
            )
            tasks: set[asyncio.Task[None]] = set()
            try:
                async for result in fetch_feeds(requests, settings, user_agent):
                    tasks.add(asyncio.create_task(handle(result, parsers, writer)))
                    if len(tasks) >= 2 * settings.concurrency:  # bounds the feeds held in memory
                        _done, tasks = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                await asyncio.gather(*tasks)
            finally:
                writer.close()  # in the thread that used it, after the last store

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

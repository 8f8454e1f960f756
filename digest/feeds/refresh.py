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
import gc
import logging
import os
import pickle
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing import forkserver, get_context
from multiprocessing.context import BaseContext

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from digest.config import FeedSettings
from digest.db.engine import session_scope
from digest.events.group import group_stored_stories
from digest.events.scoring import Story
from digest.feeds import poll_store
from digest.feeds.fetch import FetchRequest, FetchResult, fetch_feeds
from digest.feeds.outcomes import Arrival, FeedOutcome, next_poll_time, store_arrivals
from digest.feeds.reading import FeedBytes, Reading, read_feed, read_in_worker, start_worker
from digest.feeds.writer import BatchWriter
from digest.tagging.rules import Ruleset

__all__ = ["FeedOutcome", "PollReport", "next_poll_time", "poll_feeds", "start_parsers"]
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
        reading, error = Reading(None), result.error
        if error is None and not (result.not_modified or result.gone):
            data = _feed_bytes(settings, result, now)
            if parsers is None:  # the writer tags what it stores as new or changed
                reading = read_feed(data, None)
            else:
                try:
                    reading = await loop.run_in_executor(parsers, read_in_worker, data)
                except BrokenProcessPool:  # a parser process died (out of memory?): parse here instead
                    reading = read_feed(data, None)
            error = reading.error
        interval, errors = state[result.request.feed_id]
        parsed = reading.parsed
        taggings = dict(zip(parsed.entries, reading.taggings, strict=True)) if parsed and reading.taggings else None
        arrival = Arrival(result, parsed, error, now, interval, errors, taggings)
        await asyncio.wrap_future(writer.submit(arrival))  # done once committed: bounds what is in memory

    async def run() -> None:
        # Three stages overlap: fetching (this event loop), parsing (worker processes, one per core, as
        # feedparser is pure Python), storing (one writer thread; the database drivers release the
        # interpreter while they wait for the server or the disk).
        with (
            _parser_pool(settings, ruleset, len(requests)) as parsers,
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

    # A poll makes millions of objects that live until it ends (entries from the parsers, rows,
    # groupings) and hardly any reference cycles: the cycle collector, walking them again and again,
    # cost a tenth of a large poll (0.4 s of 4.3, measured). It runs after the poll instead, as usual.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if requests:
            asyncio.run(run())
        # In the order of their ids, as they would be read back: grouping breaks ties by that order.
        fresh = sorted((s for o in report.outcomes for s in o.stories), key=lambda s: int(s.key))
        report.grouped = _group_new(engine, now, fresh)
    finally:
        if collecting:
            gc.enable()
    return report


def _group_new(engine: Engine, now: datetime, stories: list[Story]) -> int:
    """Put the poll's new stories into events and threads. A failure here costs only the grouping:
    the stories are stored and ``digest events regroup`` groups whatever was left ungrouped."""
    if not stories:
        return 0
    try:
        with session_scope(engine) as session:
            return group_stored_stories(session, now, stories)
    except SQLAlchemyError:
        log.exception("%d new stories could not be grouped into events", len(stories))
        return 0


def start_parsers(settings: FeedSettings) -> None:
    """Start the server that parser workers are forked from, if polls will use workers. Its imports
    take a fifth of a second of a core: started when a command starts, they overlap with reading
    the settings and the rules instead of delaying the first feed; ``digest run`` keeps it between
    polls. Polls start it themselves when it is not running."""
    if _parser_count(settings) >= 2:
        _parser_context()
        forkserver.ensure_running()


def _parser_count(settings: FeedSettings) -> int:
    return settings.parse_workers or os.cpu_count() or 1


def _parser_context() -> BaseContext:
    # forkserver: workers start from a clean process, not a fork of one running threads and a loop.
    # That server imports the reading module once, so each worker it forks starts with it loaded.
    context = get_context("forkserver")
    context.set_forkserver_preload(["__main__", "digest.feeds.reading"])
    return context


@contextmanager
def _parser_pool(settings: FeedSettings, ruleset: Ruleset, feeds: int) -> Iterator[Executor | None]:
    """Worker processes for parsing and tagging, or None to parse in this process (one core, or a
    small poll). Each worker is given the rules once, when it starts."""
    workers = _parser_count(settings)
    if workers < 2 or feeds < MIN_FEEDS_FOR_WORKERS:
        yield None
        return
    # The rules go as bytes, unpickled by the worker itself: starting a worker holds this process
    # (and its event loop) until the worker has read what it is sent.
    context = _parser_context()
    with ProcessPoolExecutor(
        max_workers=min(workers, feeds),
        mp_context=context,
        initializer=start_worker,
        initargs=(pickle.dumps(ruleset),),
    ) as pool:
        yield pool


def _feed_bytes(settings: FeedSettings, result: FetchResult, now: datetime) -> FeedBytes:
    """What a parser needs of a fetched feed: plain values, cheap to send to a worker process."""
    return FeedBytes(
        result.moved_to or result.request.url,
        result.body or b"",
        result.content_type,
        now,
        summary_chars=settings.summary_chars,
        title_chars=settings.title_chars,
        max_bytes=settings.max_bytes,
    )

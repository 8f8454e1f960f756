"""The poll's writer: one thread and one database connection storing what the parsers hand over.

Feeds are stored several per transaction: whatever has arrived while the previous transaction was
being written, up to ``feeds.store_batch_feeds`` feeds or ``MAX_BATCH_STORIES`` stories. Each feed's
stories and its poll state are in the same transaction, so a crash loses only whole feeds' results,
and those feeds, still marked as not polled, are fetched again at the next poll. When a batch cannot
be stored, its feeds are stored again one by one, so a feed that breaks something costs only itself.
When the writer keeps up, each batch is one feed, as before; when it falls behind (the database
server waiting for a core on a busy machine), the round trips of one transaction serve many feeds.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from digest.feeds.outcomes import Arrival, FeedOutcome

log = logging.getLogger(__name__)

MAX_BATCH_STORIES = 500  # with the feeds' entries held in memory until their transaction ends


class BatchWriter:
    """Stores arrivals in batches on an executor with one thread (``submit`` from any thread)."""

    def __init__(
        self,
        engine: Engine,
        executor: Executor,
        store: Callable[[Connection, Sequence[Arrival]], list[FeedOutcome]],
        *,
        max_feeds: int,
        on_stored: Callable[[FeedOutcome], None],
    ) -> None:
        self._held = HeldConnection(engine)
        self._executor = executor
        self._store = store
        self._max_feeds = max_feeds
        self._on_stored = on_stored
        self._waiting: deque[tuple[Arrival, Future[FeedOutcome]]] = deque()
        self._lock = threading.Lock()

    def submit(self, arrival: Arrival) -> Future[FeedOutcome]:
        """Queue one feed; the future is done once its transaction is committed (or has failed)."""
        done: Future[FeedOutcome] = Future()
        with self._lock:
            self._waiting.append((arrival, done))
        # One drain per arrival: a drain that finds its arrival already stored by an earlier one's
        # batch returns at once, and the last drain always finds the queue empty at the end.
        self._executor.submit(self._drain)
        return done

    def close(self) -> Future[None]:
        """Close the connection, in the writer's thread, after whatever was submitted before."""
        return self._executor.submit(self._held.close)

    def _take(self) -> list[tuple[Arrival, Future[FeedOutcome]]]:
        batch: list[tuple[Arrival, Future[FeedOutcome]]] = []
        stories = 0
        feeds: set[int] = set()
        with self._lock:
            while self._waiting and len(batch) < self._max_feeds:
                arrival = self._waiting[0][0]
                size = len(arrival.parsed.entries) if arrival.parsed else 0
                if batch and (stories + size > MAX_BATCH_STORIES or arrival.feed_id in feeds):
                    break
                batch.append(self._waiting.popleft())
                stories += size
                feeds.add(arrival.feed_id)
        return batch

    def _drain(self) -> None:
        batch = self._take()
        if not batch:
            return
        try:
            arrivals = [arrival for arrival, _ in batch]
            together = self._try(arrivals) if len(arrivals) > 1 else None
            # Alone, or one by one after the batch failed.
            outcomes = together if isinstance(together, list) else [self._alone(arrival) for arrival in arrivals]
        except BaseException as exc:  # a bug, not the database: the poll must fail, not wait forever
            for _, done in batch:
                done.set_exception(exc)
            raise
        for (_, done), outcome in zip(batch, outcomes, strict=True):
            self._on_stored(outcome)
            done.set_result(outcome)

    def _alone(self, arrival: Arrival) -> FeedOutcome:
        stored = self._try([arrival])
        if isinstance(stored, list):
            return stored[0]
        log.error("feed %s: could not be stored", arrival.result.request.url, exc_info=stored)
        url = arrival.result.request.url
        return FeedOutcome(url, "error", message=f"could not be stored: {type(stored).__name__}")

    def _try(self, arrivals: Sequence[Arrival]) -> list[FeedOutcome] | SQLAlchemyError:
        try:
            return self._store(self._held.get(), arrivals)
        except SQLAlchemyError as exc:
            # Rolled back: the feeds keep their previous state and are tried again.
            self._held.close()  # the next transaction starts on a fresh connection, in case this one broke
            if len(arrivals) > 1:
                log.warning("%d feeds could not be stored together; storing them one by one", len(arrivals))
            return exc


class HeldConnection:
    """The writer thread's one database connection for the whole poll.

    Taking a connection from the pool for each transaction would cost a round trip to the server
    each time (the pool's liveness check on PostgreSQL). After a database error the connection is
    closed and the next transaction takes a fresh one.

    On PostgreSQL its commits do not wait for the server's disk (``synchronous_commit = off``): a
    feed's stories and its poll state are one transaction, so a server crash can only lose the last
    feeds stored as a whole, and those are simply fetched again at the next poll, while waiting for a
    flush after every transaction held the poll up. Large stories are compressed with lz4 where the
    server has it, which costs its share of the two cores a fraction of the default (pglz).
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
    """Session settings of the writer's connection (see HeldConnection), for PostgreSQL."""
    connection.exec_driver_sql("SET synchronous_commit = off")
    lz4 = connection.exec_driver_sql(
        "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)"
    ).first()
    if lz4 is not None:
        connection.exec_driver_sql("SET default_toast_compression = lz4")
    connection.commit()  # session settings outlive the transaction; every batch's own begins after

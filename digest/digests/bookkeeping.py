"""The outbox writes of one sending process: each round of its connections is one transaction that
records the messages they sent last and hands over the next one of each.

A sending process drives its connections from one thread, in rounds (``connections``): every
connection sends one message per round. The round's transaction is committed before any of its
messages leaves, so an unsubscribe committed earlier cancels its row, and each connection has at
most one message out and not yet recorded: a crash still repeats at most one message per
connection. One transaction per round rather than per message is what lets the sending processes
on one SQLite file keep up with the mail server; on PostgreSQL the round is one statement, so one
round trip to the server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine

from digest.db.engine import writer_turn
from digest.mail import handover_store
from digest.subscribers import store as subscribers


@dataclass(frozen=True, slots=True)
class Sent:
    delivery_id: int
    subscriber_id: int
    message_id: str
    had_failures: bool  # only then does the success reset the subscriber's failure count


class Bookkeeper:
    """Writes one process's rounds on one database connection held for the whole send."""

    def __init__(self, engine: Engine, worker: str, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.worker = worker
        self.clock = clock
        self.connection: Connection | None = None

    def write(self, sent: Sequence[Sent], hand_over: Sequence[int] = (), give_back: Sequence[int] = ()) -> set[int]:
        """Record ``sent``, stamp the ``hand_over`` rows still waiting to go out (returns those) and
        release the ``give_back`` rows unsent, in one transaction."""
        if not (sent or hand_over or give_back):
            return set()
        if self.connection is None:
            self.connection = self.engine.connect()
            if self.engine.dialect.name == "postgresql":
                # A round there is one statement, a transaction of its own: no BEGIN and COMMIT to
                # wait for.
                self.connection.execution_options(isolation_level="AUTOCOMMIT")
        database = self.connection
        with writer_turn(self.engine):
            handed = handover_store.record_and_hand_over(
                database,
                [(s.delivery_id, s.message_id) for s in sent],
                hand_over,
                give_back,
                self.worker,
                self.clock(),
            )
        # A reader's failure count is reset after the round, by itself (lost in a crash between
        # the two, it is reset by their next delivery): rare, and the round stays one short
        # transaction the store begins and commits on the driver itself.
        cleared = [step.subscriber_id for step in sent if step.had_failures]
        if cleared:
            with writer_turn(self.engine), database.begin():
                for subscriber_id in cleared:
                    subscribers.clear_failed_deliveries(database, subscriber_id)
        return handed

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

"""The outbox writes of one sending process, committed together: a connection's step (record the
message it sent last, hand over its next one) joins whatever steps the other connections are
waiting to write, and one transaction writes them all.

Whichever connection gets the process's turn first writes every step waiting at that moment, its
own among them; the others find theirs written and go on. Nothing is delayed to fill a group (a
lone connection writes alone), so each message still leaves only after its hand-over is committed,
and a crash still leaves at most one row per connection stamped and not recorded. On one SQLite
file the sending processes take turns for the single write lock, and fewer, larger transactions
are what let them keep up with the mail server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
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


@dataclass(slots=True)
class Step:
    """One connection's next write. ``hand_over``: the row to stamp just before its message leaves;
    with ``give_back`` it is released unsent instead (the send is stopping)."""

    sent: Sent | None
    hand_over: int | None = None
    give_back: bool = False
    handed: bool = False
    done: bool = False
    error: BaseException | None = None


class Bookkeeper:
    """Writes the steps of one process's connections, as many at a time as are waiting."""

    def __init__(self, engine: Engine, worker: str, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.worker = worker
        self.clock = clock
        self.waiting: list[Step] = []
        self.waiting_lock = threading.Lock()
        self.turn = threading.Lock()  # held by the connection writing a group
        self.connection: Connection | None = None  # held for every group, used only under ``turn``

    def write(self, step: Step) -> bool:
        """Commit ``step`` (alone or with others); True when its row was handed over."""
        with self.waiting_lock:
            self.waiting.append(step)
        with self.turn:
            if not step.done:
                with self.waiting_lock:
                    group, self.waiting = self.waiting, []
                self._commit(group)
        if step.error is not None:
            raise step.error
        return step.handed

    def close(self) -> None:
        with self.turn:
            if self.connection is not None:
                self.connection.close()
                self.connection = None

    def _commit(self, group: list[Step]) -> None:
        try:
            if self.connection is None:
                self.connection = self.engine.connect()
            database = self.connection
            sent = [(s.sent.delivery_id, s.sent.message_id) for s in group if s.sent is not None]
            with writer_turn(self.engine), database.begin():
                handed = handover_store.record_and_hand_over(
                    database,
                    sent,
                    [s.hand_over for s in group if s.hand_over is not None and not s.give_back],
                    [s.hand_over for s in group if s.hand_over is not None and s.give_back],
                    self.worker,
                    self.clock(),
                )
                for step in group:
                    if step.sent is not None and step.sent.had_failures:
                        subscribers.clear_failed_deliveries(database, step.sent.subscriber_id)
            for step in group:
                step.handed = step.hand_over in handed and not step.give_back
        except BaseException as exc:
            for step in group:
                step.handed, step.error = False, exc
            raise
        finally:
            for step in group:
                step.done = True

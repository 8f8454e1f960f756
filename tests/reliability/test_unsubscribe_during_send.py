"""One-click unsubscribes posted to the real web app while `digest send` is delivering: no reader gets
a digest after their unsubscribe was answered, and the send's summary counts the cancelled digests."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine, select

from digest.config import Settings
from digest.db.engine import session_scope
from digest.subscribers.links import make_signer
from digest.subscribers.models import Subscriber
from digest.tagging.rules import Ruleset
from digest.web.app import create_app
from tests.reliability.harness import (
    RecordingSink,
    digest_env,
    newsroom,
    record_figures,
    sending,
    smtp_server,
    states,
    summary_count,
    wait_until,
)

pytestmark = pytest.mark.reliability

READERS = 800
UNSUBSCRIBES = 100


@pytest.fixture
def web_app(database_url: str, engine: Engine, ruleset: Ruleset, tmp_path: Path) -> Iterator[str]:
    """The web app served by uvicorn on loopback; yields its base URL."""
    settings = Settings(database_url=database_url, mail_url=f"file://{tmp_path}/outbox", secret_key="k")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, engine, ruleset), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_until(lambda: server.started, 20)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_no_digest_after_the_unsubscribe_was_answered(
    engine: Engine, settings: Settings, database_url: str, ruleset: Ruleset, web_app: str
) -> None:
    readers = newsroom(engine, settings, ruleset, READERS)
    signer = make_signer(settings.model_copy(update={"secret_key": "k"}), engine)
    with session_scope(engine) as s:
        keys = {email: key for email, key in s.execute(select(Subscriber.email, Subscriber.link_key))}
    chance = random.Random(8058)
    chosen: set[str] = set()
    answered: dict[str, float] = {}  # reader -> time.monotonic() when their 200 came back
    during_send = 0
    lock = threading.Lock()
    sink = RecordingSink()

    def pick() -> str | None:
        """A reader not yet sent to, near where the sender is: in the batch it claimed, or the next."""
        with lock:
            if len(chosen) >= UNSUBSCRIBES:
                return None
            front = sink.count()
            for _ in range(1000):
                reader = readers[min(len(readers) - 1, front + chance.randint(2, 300))]
                if reader not in chosen:
                    chosen.add(reader)
                    return reader
            return None

    def unsubscribe(client: httpx.Client) -> None:
        nonlocal during_send
        while (reader := pick()) is not None:
            token = signer.make("unsubscribe", keys[reader])
            reply = client.post(f"{web_app}/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
            done = time.monotonic()
            assert reply.status_code == 200, reply.text
            with lock:
                answered[reader] = done
                during_send += sender.poll() is None
            time.sleep(chance.uniform(0, 0.05))

    with smtp_server(sink) as mail_url:
        # At a steady 200 messages a second the send lasts about four seconds on any machine.
        env = digest_env(database_url, mail_url, delivery__connections=4, delivery__messages_per_second=200)
        with sending(env) as sender:
            assert wait_until(lambda: sink.count() >= 20 or sender.poll() is not None, 120)
            with ThreadPoolExecutor(4) as pool, httpx.Client(timeout=60) as client:
                for future in [pool.submit(unsubscribe, client) for _ in range(4)]:
                    future.result()
            out, err = sender.communicate(timeout=300)
            assert sender.returncode == 0, err

    arrivals = {a.recipient: a for a in sink.accepted if a.recipient in answered}
    late = [r for r, a in arrivals.items() if a.rcpt_at >= answered[r]]
    cancelled = {r for r, rows in states(engine).items() if rows[0][0] == "cancelled"}
    record_figures(
        f"unsubscribe-{engine.dialect.name}",
        {
            "readers": READERS,
            "unsubscribes": len(answered),
            "answered while sending": during_send,
            "sent after the answer": len(late),
            "handed over before the answer": len(arrivals),
            "cancelled": len(cancelled),
            "summary": summary_count(out, "not sent (unsubscribed meanwhile)"),
        },
    )
    assert len(answered) == UNSUBSCRIBES and during_send >= UNSUBSCRIBES // 2
    assert late == []  # every message to them was handed to the server before their 200 came back
    assert cancelled == set(answered) - set(arrivals)  # everyone else's digest was cancelled, and only theirs
    assert summary_count(out, "not sent (unsubscribed meanwhile)") == len(cancelled)
    assert summary_count(out, "sent") == READERS - len(cancelled)
    assert sorted(sink.received().values()) == [1] * (READERS - len(cancelled))

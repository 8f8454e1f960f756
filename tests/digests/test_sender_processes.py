"""Sender processes share one edition on one SQLite file (and on PostgreSQL): one digest per reader."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, select

from digest.config import Settings
from digest.db.engine import session_scope
from digest.digests.senders import shares
from digest.mail.models import Delivery
from digest.subscribers.models import Subscriber, SubscriberTopic
from digest.tagging.rules import Ruleset
from tests.conftest import TOPICS
from tests.digests.helpers import ingest, rss
from tests.smtpserver import SmtpServer

READERS = 1200  # above the size from which a send starts processes


def confirmed_readers(engine: Engine, settings: Settings, count: int, at: datetime) -> list[str]:
    people = [
        {
            "id": i,
            "email": f"reader{i}@example.org",
            "status": "confirmed",
            "frequency": ("daily", "weekly")[i % 2],
            "link_key": secrets.token_urlsafe(24),
            "created_at": at,
            "confirmed_at": at,
            "policy_version": settings.privacy.policy_version,
            "failed_deliveries": 0,
        }
        for i in range(1, count + 1)
    ]
    topics = [["deepfakes"], ["child-protection"], ["ai-misuse", "deepfakes"]]
    with session_scope(engine) as s:
        s.execute(insert(Subscriber), people)
        s.execute(
            insert(SubscriberTopic),
            [{"subscriber_id": p["id"], "topic": t} for p in people for t in topics[int(p["id"]) % 3]],
        )
    return [str(p["email"]) for p in people]


def test_two_sender_processes_send_each_reader_one_digest(
    engine: Engine, database_url: str, ruleset: Ruleset, smtp_server: SmtpServer
) -> None:
    settings = Settings(database_url=database_url, secret_key="k")
    now = datetime.now(UTC)
    readers = confirmed_readers(engine, settings, READERS, now - timedelta(days=1))
    news = rss(
        ("Court bans nudify apps", "https://wire.example/1", "<p>Deepfake images of pupils.</p>"),
        ("Regulator fines app over children's data", "https://wire.example/2", "<p>Users under 13.</p>"),
    )
    ingest(engine, ruleset, news, now - timedelta(minutes=5))
    env = {
        **os.environ,
        "DIGEST_DATABASE_URL": database_url,
        "DIGEST_MAIL_URL": smtp_server.url,
        "DIGEST_SECRET_KEY": "k",
        "DIGEST_TOPICS_FILE": str(TOPICS),
        "DIGEST_DELIVERY__CONNECTIONS": "4",
        "DIGEST_DELIVERY__SENDER_PROCESSES": "2",
    }
    done = subprocess.run(
        [sys.executable, "-m", "digest", "send"], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert f"sent {READERS}," in done.stdout
    received = Counter(r for message in smtp_server.sink.received for r in message.recipients)
    assert sorted(received) == sorted(readers)
    assert set(received.values()) == {1}  # nobody missed, nobody twice
    with session_scope(engine) as s:
        workers = Counter(s.scalars(select(Delivery.claimed_by).where(Delivery.state == "sent")))
    assert len(workers) == 2 and all(n > READERS / 10 for n in workers.values())  # the work was shared
    # The connections setting stays the total (one more: send checks the server before queueing).
    assert smtp_server.sink.connections <= 4 + 1


def test_connections_are_split_between_processes() -> None:
    assert shares(4, 2) == [2, 2]
    assert shares(5, 2) == [3, 2]
    assert shares(1, 2) == [1]  # never more processes than connections
    assert sum(shares(64, 3)) == 64

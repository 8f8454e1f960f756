"""Several senders on PostgreSQL share one edition: every subscriber gets exactly one message."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from digest.config import Settings
from digest.tagging.rules import Ruleset
from tests.conftest import TOPICS
from tests.digests.helpers import ingest, rss, subscribe
from tests.mailbox import messages


def test_four_senders_send_each_digest_once(
    engine: Engine, database_url: str, ruleset: Ruleset, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several senders at once is a PostgreSQL set-up; SQLite is the single-process default")
    outbox = tmp_path / "outbox"
    settings = Settings(database_url=database_url, mail_url=f"file://{outbox}", secret_key="k")
    now = datetime.now(UTC)
    readers = [f"reader{i}@example.org" for i in range(400)]
    for i, reader in enumerate(readers):
        topics = [["deepfakes"], ["child-protection"], ["ai-misuse", "deepfakes"]][i % 3]
        subscribe(engine, settings, reader, topics, ("daily", "weekly")[i % 2], now - timedelta(days=1), ruleset)
    news = rss(
        ("Court bans nudify apps", "https://wire.example/1", "<p>Deepfake images of pupils.</p>"),
        ("Regulator fines app over children's data", "https://wire.example/2", "<p>Users under 13.</p>"),
    )
    ingest(engine, ruleset, news, now - timedelta(minutes=5))
    env = {
        **os.environ,
        "DIGEST_DATABASE_URL": database_url,
        "DIGEST_MAIL_URL": f"file://{outbox}",
        "DIGEST_SECRET_KEY": "k",
        "DIGEST_TOPICS_FILE": str(TOPICS),
        "DIGEST_DELIVERY__CONNECTIONS": "2",
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "digest", "send"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    results = [w.communicate(timeout=300) for w in workers]
    assert all(w.returncode == 0 for w in workers), results
    recipients = [m["To"] for m in messages(outbox)]
    assert sorted(recipients) == sorted(readers)  # everyone once: nobody missed, nobody twice
    sent_counts = [int(out.split("sent ")[1].split(",")[0]) for out, _err in results]
    assert sum(sent_counts) == len(readers)
    assert sum(1 for n in sent_counts if n > 0) >= 2  # the work was really shared

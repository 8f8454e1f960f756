"""An import killed with SIGKILL in the middle and started again: every row in exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import Engine, func, select

from digest.db.engine import session_scope
from digest.subscribers.importer import BATCH
from digest.subscribers.models import ConsentEvent, Subscriber, SubscriberTopic
from tests.conftest import TOPICS
from tests.mailbox import messages

ROWS = BATCH * 16  # enough batches that the kill lands mid-import on a quiet machine too
PENDING_EVERY = 200  # a few pending rows, so confirmation mails are part of the run


def subscribers(engine: Engine) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(Subscriber)) or 0


def test_a_killed_import_run_again_imports_every_row_exactly_once(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    csv = tmp_path / "big.csv"
    with csv.open("w") as fh:
        fh.write("email,topics,frequency,confirmed\n")
        for i in range(ROWS):
            fh.write(f"reader{i}@mail{i % 97}.example.org,deepfakes;ai-misuse,weekly,{i % PENDING_EVERY != 0}\n")
    outbox = tmp_path / "outbox"
    env = {
        **os.environ,
        "DIGEST_DATABASE_URL": database_url,
        "DIGEST_TOPICS_FILE": str(TOPICS),
        "DIGEST_MAIL_URL": f"file://{outbox}",
    }
    command = [sys.executable, "-m", "digest", "subscribers", "import", str(csv)]
    log = tmp_path / "first-run.log"
    with log.open("wb") as output:
        first = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 300
            while subscribers(engine) == 0:  # wait for the first batch to be committed
                assert first.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the import committed nothing in five minutes"
                time.sleep(0.005)
            first.send_signal(signal.SIGKILL)
        finally:
            first.wait()
    assert first.returncode == -signal.SIGKILL
    done_before = subscribers(engine)
    assert 0 < done_before < ROWS, "the import finished before it could be killed"
    assert done_before % BATCH == 0  # whole batches or nothing: a batch is one transaction

    second = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"imported {ROWS - done_before}, skipped {done_before}, 0 bad rows" in second.stdout
    assert f"({done_before} already on the list, left as they were)" in second.stdout

    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Subscriber)) == ROWS
        assert s.scalar(select(func.count(func.distinct(Subscriber.email)))) == ROWS
        assert s.scalar(select(func.count()).select_from(SubscriberTopic)) == 2 * ROWS
        assert s.scalar(select(func.count()).select_from(ConsentEvent)) == ROWS
        assert s.scalar(select(func.count(func.distinct(ConsentEvent.subscriber_id)))) == ROWS
        pending = set(s.scalars(select(Subscriber.email).where(Subscriber.status == "pending")))
        unmailed = s.scalar(
            select(func.count()).where(Subscriber.status == "pending", Subscriber.last_mail_request_at.is_(None))
        )
    assert len(pending) == ROWS // PENDING_EVERY and unmailed == 0
    # Whoever the killed run had not mailed yet was mailed by the second run.
    assert {str(m["To"]) for m in messages(outbox)} == pending

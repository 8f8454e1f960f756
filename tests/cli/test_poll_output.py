"""``digest poll`` as people see it: each failed feed once, in words, not the operating system's text."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from digest.db.engine import make_engine, session_scope
from digest.feeds import store
from tests.ports import closed_port


def test_each_failure_is_said_once_in_words(tmp_path: Path, sqlite_template: Path) -> None:
    shutil.copy(sqlite_template, tmp_path / "digest.db")
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    refused = f"http://127.0.0.1:{closed_port()}/feed.xml"
    unknown = "http://no-such-host.invalid/feed.xml"
    engine = make_engine(url)
    with session_scope(engine) as session:
        for feed in (refused, unknown):
            store.add_feed(session, feed, None, datetime.now(UTC))
    engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    result = subprocess.run(
        [sys.executable, "-m", "digest", "poll"],
        cwd=tmp_path,
        env={**env, "DIGEST_DATABASE_URL": url, "COLUMNS": "60"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    everything = result.stdout + result.stderr
    assert everything.count(refused) == 1 and everything.count(unknown) == 1, everything
    assert f"failed {refused}: cannot connect: connection refused\n" in result.stdout
    assert f"failed {unknown}: cannot connect: name " in result.stdout  # "name not found" (or lookup failed)
    assert "Errno" not in everything and "All connection attempts failed" not in everything
    assert "2 failed" in result.stdout

"""A new reader's first digest carries the current edition, not only what arrived after they confirmed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from digest.config import Settings
from digest.digests.build import plan_edition
from digest.digests.deliver import deliver_queued
from digest.subscribers.links import make_signer
from digest.tagging.rules import Ruleset
from tests.digests.helpers import ingest, rss, subscribe
from tests.mailbox import messages, text_of

SEND1 = datetime(2026, 10, 5, 9, tzinfo=UTC)  # the daily send time; the edition days are in UTC
SEND2 = SEND1 + timedelta(days=1)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url, mail_url=f"file://{tmp_path}/outbox", secret_key="k", base_url="https://news.example"
    )


def send(engine: Engine, settings: Settings, ruleset: Ruleset, now: datetime) -> dict[str, str]:
    before = len(messages(Path(settings.mail_url.removeprefix("file://"))))
    plan_edition(engine, settings, ruleset, now)
    deliver_queued(engine, settings, ruleset, make_signer(settings, engine))
    sent = messages(Path(settings.mail_url.removeprefix("file://")))[before:]
    return {m["To"]: text_of(m) for m in sent}


def story(n: int, title: str) -> bytes:
    return rss((title, f"https://wire.example/{n}", "<p>An AI voice clone was used.</p>"))


def test_a_reader_who_confirmed_a_minute_before_the_send_gets_the_whole_edition(
    engine: Engine, settings: Settings, ruleset: Ruleset
) -> None:
    subscribe(engine, settings, "old@example.org", ["deepfakes"], "daily", SEND1 - timedelta(days=3), ruleset)
    ingest(engine, ruleset, story(1, "Deepfake of mayor circulates before vote"), SEND1 - timedelta(hours=5))
    assert set(send(engine, settings, ruleset, SEND1)) == {"old@example.org"}

    ingest(engine, ruleset, story(2, "Court fines deepfake app maker"), SEND2 - timedelta(hours=20))
    ingest(engine, ruleset, story(3, "Deepfake scam calls hit pensioners"), SEND2 - timedelta(hours=2))
    subscribe(engine, settings, "new@example.org", ["deepfakes"], "daily", SEND2 - timedelta(minutes=1), ruleset)
    got = send(engine, settings, ruleset, SEND2)
    # The new reader gets exactly what everyone else gets in this edition: the stories since the last
    # one, including those that came in long before they confirmed, and nothing from the edition before.
    for reader in ("old@example.org", "new@example.org"):
        assert "fines deepfake app maker" in got[reader] and "scam calls hit pensioners" in got[reader]
        assert "mayor" not in got[reader]

    # The next edition continues from where this one ended, for both: nothing twice.
    ingest(engine, ruleset, story(4, "Deepfake nude app banned"), SEND2 + timedelta(hours=3))
    got = send(engine, settings, ruleset, SEND2 + timedelta(days=1))
    for reader in ("old@example.org", "new@example.org"):
        assert "nude app banned" in got[reader] and "pensioners" not in got[reader]

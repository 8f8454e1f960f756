"""Previews say what they show: which edition, whether the reader already has the current one, and
whether send would skip them; the editors' decisions are applied."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from digest.config import Settings
from digest.db.engine import session_scope
from digest.digests import review
from digest.digests.build import plan_edition
from digest.digests.deliver import deliver_queued
from digest.digests.editions import edition_for, next_edition
from digest.digests.preview import preview_message
from digest.feeds.models import Story
from digest.subscribers import signup
from digest.subscribers import store as subscribers
from digest.subscribers.links import make_signer
from digest.tagging.rules import Ruleset
from tests.digests.helpers import ingest, rss, subscribe
from tests.mailbox import text_of

NEWS = rss(
    ("Court jails man who cloned his boss's voice with a deepfake", "https://wire.example/1", ""),
    ("Deepfake robocall of the mayor investigated", "https://wire.example/5", ""),
)


def test_a_readers_preview_follows_their_edition(
    engine: Engine, database_url: str, ruleset: Ruleset, tmp_path: Path
) -> None:
    settings = Settings(database_url=database_url, mail_url=f"file://{tmp_path}/outbox", secret_key="k")
    now = datetime.now(UTC)
    subscribe(engine, settings, "deep@example.org", ["deepfakes"], "daily", now - timedelta(days=1), ruleset)
    ingest(engine, ruleset, NEWS, now - timedelta(minutes=5))
    signer, today = make_signer(settings, engine), edition_for("daily", now, "UTC")

    def preview() -> tuple[str, str, str, bool]:
        found = preview_message(engine, settings, ruleset, signer, "deep@example.org", datetime.now(UTC))
        assert found is not None
        return found.edition, found.explanation, text_of(found.message), found.received_current

    edition, about, text, received = preview()
    assert (edition, received) == (today, False) and "has not received the daily edition of" in about
    assert "robocall" in text and "cloned his boss" in text

    plan_edition(engine, settings, ruleset, now)
    with session_scope(engine) as s:  # excluded after queueing: the queued digest loses it
        robocall = s.scalar(select(Story.id).where(Story.title.contains("robocall")))
        assert robocall is not None
        review.exclude(s, today, robocall, "alice", now, keep_for_next=False)
    edition, about, text, received = preview()
    assert edition == today and "The digest queued for this reader" in about
    assert "robocall" not in text and "cloned his boss" in text

    deliver_queued(engine, settings, ruleset, signer)
    edition, about, text, received = preview()
    assert edition == next_edition(today) and received
    assert "already received the daily edition of" in about and "This is their next digest" in about
    assert "No new stories" in text

    with session_scope(engine) as s:
        person = subscribers.by_email(s, "deep@example.org")
        assert person is not None
        signup.unsubscribe(s, person, "one-click", now)
    found = preview_message(engine, settings, ruleset, signer, "deep@example.org", datetime.now(UTC))
    assert found is not None and found.skipped == "this address is unsubscribed: send mails it nothing"

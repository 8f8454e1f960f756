"""What is kept of a report, and for how long: the original for ``bounces.keep_days``, everything about a
person gone with them; and the file outbox shows the return path each digest was sent with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select

from digest.bounces.models import BounceEvent
from digest.bounces.process import Processor, purge_originals
from digest.config import MailSettings, Settings
from digest.db.engine import session_scope
from digest.digests.build import plan_edition
from digest.digests.deliver import deliver_queued
from digest.mail import outbox
from digest.mail.return_path import ReturnPath
from digest.subscribers import store as subscribers
from digest.subscribers.links import make_signer
from digest.subscribers.privacy import erase_subscriber
from digest.tagging.rules import Ruleset
from tests.bounces.reports import CORPUS, soft_bounce
from tests.digests.helpers import ingest, rss, subscribe


def originals(engine: Engine) -> list[bytes | None]:
    with session_scope(engine) as s:
        return list(s.scalars(select(BounceEvent.original).order_by(BounceEvent.id)))


def test_originals_are_erased_after_keep_days_and_with_the_person(
    engine: Engine, settings: Settings, ruleset: Ruleset
) -> None:
    subscribe(engine, settings, "full@example.net", ["deepfakes"], "daily", datetime.now(UTC), ruleset)
    processor = Processor(engine, settings, ["k"])
    processor.process_message(soft_bounce("full@example.net", "x"), "file")
    processor.process_message((CORPUS / "not-a-bounce.eml").read_bytes(), "file")  # tied to nobody
    assert all(originals(engine))
    assert purge_originals(engine, settings, datetime.now(UTC) + timedelta(days=29)) == 0
    assert purge_originals(engine, settings, datetime.now(UTC) + timedelta(days=31)) == 2
    assert originals(engine) == [None, None]  # the events stay, for the counts; their text is gone

    processor.process_message(soft_bounce("full@example.net", "x", "again"), "file")
    with session_scope(engine) as s:
        person = subscribers.by_email(s, "full@example.net")
        assert person is not None
        erase_subscriber(s, person, datetime.now(UTC))
    with session_scope(engine) as s:
        left = s.execute(select(BounceEvent.subscriber_id, func.count()).group_by(BounceEvent.subscriber_id)).all()
    assert left == [(None, 1)]  # only the report that named nobody on the list


def test_the_file_outbox_writes_each_digest_return_path(
    database_url: str, engine: Engine, ruleset: Ruleset, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=database_url,
        mail_url=f"file://{tmp_path}/outbox",
        secret_key="k",
        mail=MailSettings(from_address="digest@example.org", bounce_address="bounces@bounce.example.org"),
    )
    now = datetime.now(UTC)
    subscribe(engine, settings, "reader@example.net", ["deepfakes"], "daily", now - timedelta(days=1), ruleset)
    ingest(
        engine, ruleset, rss(("Deepfake fraud reaches court", "https://wire.example/1", "")), now - timedelta(hours=1)
    )
    plan_edition(engine, settings, ruleset, now)
    deliver_queued(engine, settings, ruleset, make_signer(settings, engine))
    (sent,) = (tmp_path / "outbox").glob("*.eml")
    first = sent.read_bytes().split(b"\n", 1)[0].decode()
    assert first.startswith("Return-Path: <bounces+d") and first.endswith("@bounce.example.org>")
    with session_scope(engine) as s:
        person = subscribers.by_email(s, "reader@example.net")
        assert person is not None
        (delivery,) = outbox.deliveries_of(s, person.id)
    path = ReturnPath("bounces@bounce.example.org", "digest@example.org", make_signer(settings, engine).keys)
    assert path.delivery_of(first) == delivery.id  # the return path names this very delivery

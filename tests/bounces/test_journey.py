"""End to end: send an edition to a real SMTP server, feed back what real servers would send, and the
next editions go only where they should."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from digest.bounces import store as bounce_store
from digest.bounces.process import Processor
from digest.config import BounceSettings, MailSettings, Settings
from digest.db.engine import session_scope
from digest.digests.build import plan_edition
from digest.digests.deliver import deliver_queued
from digest.subscribers import store as subscribers
from digest.subscribers.links import make_signer
from digest.subscribers.privacy import is_suppressed
from digest.tagging.rules import Ruleset
from tests.bounces.reports import complaint, hard_bounce, soft_bounce
from tests.digests.helpers import ingest, rss, subscribe
from tests.smtpserver import SmtpServer

DAY0 = datetime(2026, 10, 5, 8, tzinfo=UTC)
READERS = ("gone@example.net", "angry@example.net", "full@example.net", "happy@example.net")


@pytest.fixture
def settings(database_url: str, smtp_server: SmtpServer) -> Settings:
    return Settings(
        database_url=database_url,
        mail_url=smtp_server.url,
        secret_key="k",
        base_url="https://news.example",
        mail=MailSettings(from_address="digest@example.org", bounce_address="bounces@bounce.example.org"),
        bounces=BounceSettings(soft_limit=2, window_days=14),
    )


def edition(engine: Engine, settings: Settings, ruleset: Ruleset, smtp: SmtpServer, day: int) -> dict[str, str]:
    """Send day ``day``'s edition (one new story); returns recipient -> envelope sender of what arrived."""
    when = DAY0 + timedelta(days=day)
    ingest(engine, ruleset, rss((f"Deepfake fraud case {day} reaches court", f"https://wire.example/{day}", "")), when)
    before = len(smtp.sink.received)
    plan_edition(engine, settings, ruleset, when + timedelta(hours=1))
    deliver_queued(engine, settings, ruleset, make_signer(settings, engine))
    return {r.recipients[0]: r.sender for r in smtp.sink.received[before:]}


def test_hard_bounce_complaint_and_soft_bounces_decide_who_gets_the_next_editions(
    engine: Engine, settings: Settings, ruleset: Ruleset, smtp_server: SmtpServer
) -> None:
    for reader in READERS:
        subscribe(engine, settings, reader, ["deepfakes"], "daily", DAY0 - timedelta(days=1), ruleset)
    processor = Processor(engine, settings, make_signer(settings, engine).keys)

    first = edition(engine, settings, ruleset, smtp_server, 0)
    assert set(first) == set(READERS)
    assert all(sender.startswith("bounces+d") and sender.endswith("@bounce.example.org") for sender in first.values())
    assert len(set(first.values())) == 4  # one return path per delivery
    message_id = next(r.message["Message-ID"] for r in smtp_server.sink.received if r.recipients == [READERS[1]])
    assert smtp_server.sink.received[0].message["Feedback-ID"].endswith(":digest:newsletter:digest.localhost")

    assert processor.process_message(hard_bounce(READERS[0], first[READERS[0]]), "file").action == "suppressed"
    # The complaint names only the reader and the Message-ID: Yahoo's reports redact the return path.
    redacted = complaint(READERS[1], "bounces@bounce.example.org", message_id)
    outcome = processor.process_message(redacted, "file")
    assert (outcome.kind, outcome.action, outcome.tied_by) == ("complaint", "unsubscribed", "message-id")
    soft = processor.process_message(soft_bounce(READERS[2], first[READERS[2]], "a"), "file")
    assert (soft.kind, soft.action, soft.tied_by) == ("soft", "counted", "return-path")
    # The same report again (an MTA retried, two fetchers): nothing more happens.
    assert processor.process_message(hard_bounce(READERS[0], first[READERS[0]]), "file").action == "duplicate"

    second = edition(engine, settings, ruleset, smtp_server, 1)
    assert set(second) == {READERS[2], READERS[3]}  # neither the bounced nor the complaining reader
    assert processor.process_message(soft_bounce(READERS[2], second[READERS[2]], "b"), "file").action == "suppressed"

    third = edition(engine, settings, ruleset, smtp_server, 2)
    assert set(third) == {READERS[3]}  # the soft-bouncing reader only until the limit

    with session_scope(engine) as s:
        people = {r: subscribers.by_email(s, r) for r in READERS}
        assert all(p is not None for p in people.values())
        assert [people[r].status for r in READERS] == ["unsubscribed", "unsubscribed", "unsubscribed", "confirmed"]  # type: ignore[union-attr]
        assert [is_suppressed(s, r) for r in READERS] == [True, True, True, False]
        hard = subscribers.consents(s, people[READERS[0]])[-1]  # type: ignore[arg-type]
        assert (hard.action, hard.method) == ("unsubscribed", "bounce")
        assert hard.detail.startswith("hard bounce: 5.1.1") and "User unknown" in hard.detail
        angry = subscribers.consents(s, people[READERS[1]])[-1]  # type: ignore[arg-type]
        assert (angry.action, angry.method) == ("unsubscribed", "complaint")
        events = bounce_store.events_of(s, people[READERS[2]].id)  # type: ignore[union-attr]
        assert [(e.kind, e.action) for e in events] == [("soft", "counted"), ("soft", "suppressed")]
        assert bounce_store.events_of(s, people[READERS[3]].id) == []  # type: ignore[union-attr]


def test_a_successful_delivery_after_a_soft_bounce_resets_the_count(
    engine: Engine, settings: Settings, ruleset: Ruleset, smtp_server: SmtpServer
) -> None:
    subscribe(engine, settings, "full@example.net", ["deepfakes"], "daily", DAY0 - timedelta(days=1), ruleset)
    processor = Processor(engine, settings, make_signer(settings, engine).keys)
    first = edition(engine, settings, ruleset, smtp_server, 0)
    assert (
        processor.process_message(soft_bounce("full@example.net", first["full@example.net"], "a"), "file").action
        == "counted"
    )
    edition(engine, settings, ruleset, smtp_server, 1)  # delivered, nothing came back
    third = edition(engine, settings, ruleset, smtp_server, 2)
    again = processor.process_message(soft_bounce("full@example.net", third["full@example.net"], "c"), "file")
    assert again.action == "counted"  # one since the good delivery, below the limit of two
    assert set(edition(engine, settings, ruleset, smtp_server, 3)) == {"full@example.net"}

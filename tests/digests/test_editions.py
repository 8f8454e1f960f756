"""The edition desk on real databases, sending to a real SMTP server: states, the review deadline,
and exclusions, lead and notes reaching exactly the digests they should."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from digest.config import DigestSettings, Settings
from digest.db.engine import make_engine, session_scope
from digest.digests import edition_store, review
from digest.digests.build import plan_edition, release_due
from digest.digests.deliver import deliver_queued
from digest.feeds.models import Story
from digest.subscribers.links import make_signer
from digest.tagging.rules import Ruleset
from tests.digests.helpers import ingest, rss, subscribe
from tests.mailbox import html_of, text_of
from tests.smtpserver import SmtpServer

DAY0 = datetime(2026, 10, 5, 8, tzinfo=UTC)
EDITION = "daily:2026-10-05"
NEWS = rss(
    ("Court jails man who cloned his boss's voice with a deepfake", "https://wire.example/1", "<p>AI tool.</p>"),
    ("Regulator fines app over children's data", "https://wire.example/2", "<p>Users under 13.</p>"),
    ("Police warn of AI nudes used to blackmail teenagers", "https://wire.example/4", "<p>Sextortion.</p>"),
    ("Deepfake robocall of the mayor investigated", "https://wire.example/5", "<p>Voters misled.</p>"),
)


def configured(database_url: str, smtp: SmtpServer, **digest: object) -> Settings:
    return Settings(
        database_url=database_url,
        mail_url=smtp.url,
        secret_key="k",
        base_url="https://news.example",
        digest=DigestSettings(**digest),  # type: ignore[arg-type]
    )


def story_id(engine: Engine, words: str) -> int:
    # Read-only: the tests call it inside another, writing transaction, whose lock it must not wait for.
    with session_scope(engine, read_only=True) as s:
        found = s.scalar(select(Story.id).where(Story.title.contains(words)))
    assert found is not None, words
    return found


def deliver(engine: Engine, settings: Settings, ruleset: Ruleset) -> int:
    return deliver_queued(engine, settings, ruleset, make_signer(settings, engine)).sent


def state_of(engine: Engine, key: str = EDITION) -> str:
    with session_scope(engine) as s:
        edition = edition_store.by_key(s, key)
        return edition.state if edition else "none"


@pytest.fixture
def newsroom(engine: Engine, database_url: str, smtp_server: SmtpServer, ruleset: Ruleset) -> Settings:
    settings = configured(database_url, smtp_server)
    subscribe(engine, settings, "deep@example.org", ["deepfakes"], "daily", DAY0 - timedelta(days=1), ruleset)
    subscribe(engine, settings, "kids@example.org", ["child-protection"], "daily", DAY0 - timedelta(days=1), ruleset)
    ingest(engine, ruleset, NEWS, DAY0)
    return settings


def test_with_approve_nothing_goes_out_until_an_editor_approves(
    engine: Engine, newsroom: Settings, smtp_server: SmtpServer, ruleset: Ruleset
) -> None:
    settings = newsroom.model_copy(update={"digest": DigestSettings(review="approve")})
    plan = plan_edition(engine, settings, ruleset, DAY0 + timedelta(hours=1))
    assert plan.queued == 0 and plan.waiting == {"daily": EDITION, "weekly": "weekly:2026-W41"}
    assert plan.waiting_readers == 2
    assert deliver(engine, settings, ruleset) == 0 and smtp_server.sink.received == []
    assert state_of(engine) == "planned"
    assert release_due(engine, settings, ruleset, DAY0 + timedelta(hours=2)) is None  # no deadline: never

    voice, robocall = story_id(engine, "cloned his boss"), story_id(engine, "robocall")
    now = DAY0 + timedelta(hours=2)
    with session_scope(engine) as s:
        review.exclude(s, EDITION, voice, "alice", now, keep_for_next=False)
        review.set_lead(s, EDITION, robocall, "alice", now)
        review.set_note(
            s,
            EDITION,
            None,
            "Welcome to **Monday**. See [the ruling](https://court.example/r).",
            "bob",
            now,
            list(ruleset.slugs),
        )
        review.set_note(
            s, EDITION, "deepfakes", "Election season: _watch the robocalls_.", "bob", now, list(ruleset.slugs)
        )
        review.approve(s, EDITION, "alice", now)
    assert state_of(engine) == "approved"
    released = release_due(engine, settings, ruleset, now + timedelta(minutes=5))
    assert released is not None and released.queued == 2
    assert deliver(engine, settings, ruleset) == 2
    with session_scope(engine) as s:
        review.settle(s, now)
    assert state_of(engine) == "sent"

    mails = {r.message["To"]: r.message for r in smtp_server.sink.received}
    deep, kids = mails["deep@example.org"], mails["kids@example.org"]
    for part in (text_of(deep), html_of(deep)):
        assert "cloned his boss" not in part  # excluded: goes to nobody
        assert "Monday" in part and "watch the robocalls" in part
        body = part.split("<body", 1)[-1]  # the HTML's <title> is the subject, which names the lead
        assert body.index("Lead story") < body.index("robocall") < body.index("blackmail")
    # Larger, in plain text: underlined.
    assert "Deepfake robocall of the mayor investigated\n" + "=" * 43 + "\n" in text_of(deep).replace("\r\n", "\n")
    assert '<a href="https://court.example/r"' in html_of(deep) and "<strong" in html_of(deep)
    assert "the ruling (https://court.example/r)" in text_of(deep) and "**" not in text_of(deep)
    # The kids reader's digest has no lead (it does not contain the story) and no deepfakes note.
    for part in (text_of(kids), html_of(kids)):
        assert "Monday" in part and "Lead story" not in part and "watch the robocalls" not in part
    # The lead, and the blackmail story; not the excluded one.
    assert deep["Subject"] == "Deepfake robocall of the mayor investigated + 1 more on Deepfakes"

    with session_scope(engine) as s:
        edition = edition_store.by_key(s, EDITION)
        assert edition is not None
        audit = [(d.action, d.editor) for d in edition_store.decisions(s, edition.id)]
    assert audit == [("exclude", "alice"), ("lead", "alice"), ("note", "bob"), ("note", "bob"), ("approve", "alice")]


def test_the_review_deadline_sends_an_unapproved_edition(
    engine: Engine, newsroom: Settings, smtp_server: SmtpServer, ruleset: Ruleset
) -> None:
    settings = newsroom.model_copy(update={"digest": DigestSettings(review="approve", review_deadline="10:00")})
    assert plan_edition(engine, settings, ruleset, DAY0).queued == 0  # planned at 08:00
    assert release_due(engine, settings, ruleset, DAY0 + timedelta(hours=1, minutes=59)) is None
    released = release_due(engine, settings, ruleset, DAY0 + timedelta(hours=2))
    assert released is not None and released.queued == 2
    assert deliver(engine, settings, ruleset) == 2
    with session_scope(engine) as s:
        edition = edition_store.by_key(s, EDITION)
        assert edition is not None
        (decision,) = edition_store.decisions(s, edition.id)
    assert (decision.action, decision.editor, decision.detail) == (
        "deadline",
        "review deadline",
        "not approved by 10:00",
    )


def test_changes_after_some_digests_went_out_apply_to_the_rest(
    engine: Engine, newsroom: Settings, smtp_server: SmtpServer, ruleset: Ruleset
) -> None:
    settings = newsroom
    plan_edition(engine, settings, ruleset, DAY0 + timedelta(hours=1))
    assert deliver(engine, settings, ruleset) == 2 and state_of(engine) == "sending"
    robocall, now = story_id(engine, "robocall"), DAY0 + timedelta(hours=2)
    with session_scope(engine) as s:
        review.exclude(s, EDITION, robocall, "alice", now, keep_for_next=False)
        review.set_note(s, EDITION, None, "A late correction.", "alice", now, list(ruleset.slugs))
    subscribe(engine, settings, "late@example.org", ["deepfakes"], "daily", DAY0 - timedelta(days=1), ruleset)
    plan_edition(engine, settings, ruleset, DAY0 + timedelta(hours=3))
    assert deliver(engine, settings, ruleset) == 1
    first, late = smtp_server.sink.received[0].message, smtp_server.sink.received[-1].message
    assert late["To"] == "late@example.org"
    assert "robocall" not in text_of(late) and "A late correction." in text_of(late)
    if first["To"] == "deep@example.org":
        assert "robocall" in text_of(first) and "late correction" not in text_of(first)
    with session_scope(engine) as s:
        edition = edition_store.by_key(s, EDITION)
        assert edition is not None
        assert [d.sent_before for d in edition_store.decisions(s, edition.id)] == [2, 2]


def test_a_held_edition_waits_and_goes_on_when_approved(
    engine: Engine, newsroom: Settings, smtp_server: SmtpServer, ruleset: Ruleset
) -> None:
    settings, now = newsroom, DAY0 + timedelta(hours=1)
    with session_scope(engine) as s:
        review.hold(s, EDITION, "alice", now)
    plan = plan_edition(engine, settings, ruleset, now)
    assert plan.queued == 0 and "daily" in plan.waiting and deliver(engine, settings, ruleset) == 0
    with session_scope(engine) as s, pytest.raises(review.EditionError, match="already held"):
        review.hold(s, EDITION, "alice", now)
    with session_scope(engine) as s:
        review.approve(s, EDITION, "bob", now)
    released = release_due(engine, settings, ruleset, now)
    assert released is not None and released.queued == 2 and deliver(engine, settings, ruleset) == 2
    # Held while sending: the queued rest waits.
    subscribe(engine, settings, "late@example.org", ["deepfakes"], "daily", DAY0 - timedelta(days=1), ruleset)
    plan_edition(engine, settings, ruleset, now)
    with session_scope(engine) as s:
        review.hold(s, EDITION, "alice", now)
    assert deliver(engine, settings, ruleset) == 0
    with session_scope(engine) as s:
        assert review.approve(s, EDITION, "alice", now).state == "sending"
    assert deliver(engine, settings, ruleset) == 1
    with session_scope(engine) as s:
        review.settle(s, now)
        with pytest.raises(review.EditionError, match="is sent: it cannot be changed"):
            review.set_lead(s, EDITION, story_id(engine, "robocall"), "alice", now)


def test_an_excluded_story_returns_next_time_only_when_kept(
    engine: Engine, newsroom: Settings, smtp_server: SmtpServer, ruleset: Ruleset
) -> None:
    settings, now = newsroom, DAY0 + timedelta(hours=1)
    kept, dropped = story_id(engine, "robocall"), story_id(engine, "cloned his boss")
    with session_scope(engine) as s:
        review.exclude(s, EDITION, kept, "alice", now, keep_for_next=True)
        review.exclude(s, EDITION, dropped, "alice", now, keep_for_next=False)
    plan_edition(engine, settings, ruleset, now)
    assert deliver(engine, settings, ruleset) == 2
    today = next(r.message for r in smtp_server.sink.received if r.message["To"] == "deep@example.org")
    assert "robocall" not in text_of(today) and "cloned his boss" not in text_of(today)
    plan_edition(engine, settings, ruleset, now + timedelta(days=1))
    assert deliver(engine, settings, ruleset) == 1  # only the deepfakes reader has something (the kept story)
    tomorrow = smtp_server.sink.received[-1].message
    assert tomorrow["To"] == "deep@example.org" and tomorrow["Subject"] == "Deepfake robocall of the mayor investigated"
    assert "robocall" in text_of(tomorrow) and "cloned his boss" not in text_of(tomorrow)


def test_decisions_survive_a_restart(engine: Engine, newsroom: Settings, database_url: str, ruleset: Ruleset) -> None:
    robocall, now = story_id(engine, "robocall"), DAY0
    with session_scope(engine) as s:
        review.set_lead(s, EDITION, robocall, "alice", now)
        review.exclude(s, EDITION, story_id(engine, "cloned his boss"), "alice", now, keep_for_next=True)
        review.set_note(s, EDITION, "deepfakes", "Read this first.", "alice", now, list(ruleset.slugs))
    engine.dispose()
    fresh = make_engine(database_url)
    try:
        with session_scope(fresh) as s:
            desk = review.desk_of(s, EDITION)
    finally:
        fresh.dispose()
    assert desk.lead == robocall and desk.notes == {"deepfakes": "Read this first."} and len(desk.excluded) == 1


def test_wrong_decisions_are_refused_with_a_reason(engine: Engine, newsroom: Settings, ruleset: Ruleset) -> None:
    with session_scope(engine) as s:
        with pytest.raises(review.EditionError, match="no story has id 999"):
            review.exclude(s, EDITION, 999, "alice", DAY0, keep_for_next=False)
        with pytest.raises(review.EditionError, match="unknown topic 'cats'"):
            review.set_note(s, EDITION, "cats", "x", "alice", DAY0, list(ruleset.slugs))
        with pytest.raises(review.EditionError, match="is not excluded"):
            review.include(s, EDITION, story_id(engine, "robocall"), "alice", DAY0)

"""Digest items are events: several outlets' reports of one development are one item, and a later
development of the same case says "Earlier in this story" to readers who were sent the earlier one."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from digest.config import Settings
from digest.db.engine import session_scope
from digest.digests.build import plan_edition
from digest.digests.deliver import deliver_queued
from digest.events import store as events
from digest.events.group import group_new_stories
from digest.feeds import story_store
from digest.subscribers.links import make_signer
from digest.tagging.rules import Ruleset
from tests.digests.helpers import ingest, rss, subscribe
from tests.mailbox import html_of, messages, text_of

DAY0 = datetime(2026, 10, 5, 8, tzinfo=UTC)
OUTLETS = {
    "Wire": (
        "https://wire.example/hk",
        "Hong Kong police arrest 27 over deepfake romance scam ring",
        "<p>Officers raided an industrial unit in Hung Hom where the syndicate used face-swapping software "
        "to lure victims into crypto investments worth HK$360 million.</p>",
    ),
    "Regional News": (
        "https://regional.example/hk-fraud",
        "Deepfake romance fraud syndicate busted in Hong Kong, 27 held",
        "<p>The Hung Hom gang used AI face swaps in video calls with victims, police said, with losses "
        "of about HK$360 million.</p>",
    ),
    "Asia Desk": (
        "https://asia.example/hung-hom",
        "Hung Hom deepfake scam ring: 27 arrested by Hong Kong police",
        "<p>Police say the syndicate lured victims with face-swapped video calls; HK$360 million lost.</p>",
    ),
}
SENTENCING = (
    "https://wire.example/hk-sentenced",
    "Hong Kong court jails leaders of Hung Hom deepfake romance scam syndicate",
    "<p>Three organisers of the Hung Hom ring arrested in October were sentenced to between five and seven "
    "years for conspiracy to defraud; victims lost HK$360 million.</p>",
)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url, mail_url=f"file://{tmp_path}/outbox", secret_key="k", base_url="https://news.example"
    )


def report(engine: Engine, ruleset: Ruleset, outlet: str, story: tuple[str, str, str], at: datetime) -> None:
    """One outlet's report, stored and grouped as a poll does."""
    ingest(
        engine,
        ruleset,
        rss((story[1], story[0], story[2])),
        at,
        f"https://{outlet.replace(' ', '')}.example/rss",
        outlet,
    )
    with session_scope(engine) as s:
        group_new_stories(s, at)


def send(engine: Engine, settings: Settings, ruleset: Ruleset, now: datetime) -> None:
    plan_edition(engine, settings, ruleset, now)
    deliver_queued(engine, settings, ruleset, make_signer(settings, engine))


def mails_to(settings: Settings, address: str) -> list[str]:
    found = [m for m in messages(Path(settings.mail_url.removeprefix("file://"))) if m["To"] == address]
    return [text_of(m) + html_of(m) for m in found]


def story_id(engine: Engine, link: str) -> int:
    with session_scope(engine) as s:
        return next(st.id for st in story_store.list_stories(s, limit=100) if st.link == link)


def test_three_outlets_reports_of_one_event_are_one_item_with_also_reported_by(
    engine: Engine, settings: Settings, ruleset: Ruleset
) -> None:
    subscribe(
        engine, settings, "deep@example.org", ["deepfakes", "ai-misuse"], "daily", DAY0 - timedelta(days=1), ruleset
    )
    for hour, (outlet, story) in enumerate(OUTLETS.items()):
        report(engine, ruleset, outlet, story, DAY0 + timedelta(hours=hour))
    send(engine, settings, ruleset, DAY0 + timedelta(hours=4))
    (mail,) = [m for m in messages(Path(settings.mail_url.removeprefix("file://")))]
    text, html = text_of(mail), html_of(mail)
    assert mail["Subject"] == "Hong Kong police arrest 27 over deepfake romance scam ring"  # one event, once
    headlines = [title for _link, title, _summary in OUTLETS.values()]
    # Once as an item (a linked headline); the HTML also has the subject in its title and the preheader.
    assert sum(text.count(title) for title in headlines) == 1
    assert sum(len(re.findall(rf">{re.escape(title)}</a>", html)) for title in headlines) == 1
    # The first report leads; the other two outlets are named, each linked to its own article.
    assert headlines[0] in text
    assert (
        "Also reported by: Regional News (https://regional.example/hk-fraud), Asia Desk (https://asia.example/hung-hom)"
        in text
    )
    assert re.search(r'<a href="https://regional.example/hk-fraud"[^>]*>Regional News</a>', html)
    assert re.search(r'<a href="https://asia.example/hung-hom"[^>]*>Asia Desk</a>', html)


def test_an_editors_choice_of_headline_leads_the_event(engine: Engine, settings: Settings, ruleset: Ruleset) -> None:
    subscribe(engine, settings, "deep@example.org", ["deepfakes"], "daily", DAY0 - timedelta(days=1), ruleset)
    for hour, (outlet, story) in enumerate(OUTLETS.items()):
        report(engine, ruleset, outlet, story, DAY0 + timedelta(hours=hour))
    chosen = story_id(engine, "https://asia.example/hung-hom")
    with session_scope(engine) as s:
        events.add_decision(s, "headline", "event", chosen, None, DAY0 + timedelta(hours=3))
    send(engine, settings, ruleset, DAY0 + timedelta(hours=4))
    (text,) = mails_to(settings, "deep@example.org")
    assert "Hung Hom deepfake scam ring: 27 arrested" in text
    assert "Also reported by: Wire (https://wire.example/hk), Regional News (https://regional.example/hk-fraud)" in text


def test_earlier_in_this_story_only_for_readers_who_got_the_earlier_event(
    engine: Engine, settings: Settings, ruleset: Ruleset
) -> None:
    subscribe(engine, settings, "early@example.org", ["deepfakes"], "daily", DAY0 - timedelta(days=1), ruleset)
    report(engine, ruleset, "Wire", OUTLETS["Wire"], DAY0)
    report(engine, ruleset, "Regional News", OUTLETS["Regional News"], DAY0 + timedelta(hours=1))
    send(engine, settings, ruleset, DAY0 + timedelta(hours=2))

    later = DAY0 + timedelta(days=20)
    subscribe(engine, settings, "new@example.org", ["deepfakes"], "daily", later - timedelta(days=1), ruleset)
    report(engine, ruleset, "Wire", SENTENCING, later)
    with session_scope(engine) as s:
        grouped = {g.id: g.membership for g in events.grouped_since(s, DAY0 - timedelta(days=1))}
    first, sentencing = story_id(engine, OUTLETS["Wire"][0]), story_id(engine, SENTENCING[0])
    assert grouped[first].thread == grouped[sentencing].thread and grouped[first].event != grouped[sentencing].event
    send(engine, settings, ruleset, later + timedelta(hours=1))

    early = mails_to(settings, "early@example.org")[-1]
    assert "court jails leaders" in early
    assert (
        "Earlier in this story:\n- Hong Kong police arrest 27 over deepfake romance scam ring, 5 Oct 2026"
        " (https://wire.example/hk)" in early
    )
    assert re.search(
        r'<a href="https://wire.example/hk"[^>]*>Hong Kong police arrest 27 over deepfake romance scam ring</a>'
        r" · 5 Oct 2026",
        early,
    )
    (new,) = mails_to(settings, "new@example.org")
    assert "court jails leaders" in new and "Earlier in this story" not in new

"""Editions end to end on a real database: what each reader gets, once, and nothing more."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from digest.config import DigestSettings, PrivacySettings, Settings
from digest.db.engine import session_scope
from digest.digests import batches
from digest.digests.build import plan_edition
from digest.digests.deliver import RateLimit, deliver_queued
from digest.mail import outbox
from digest.subscribers import signup
from digest.subscribers import store as subscribers
from digest.subscribers.links import make_signer
from digest.subscribers.privacy import export_subscriber
from digest.tagging.rules import Ruleset
from tests.digests.helpers import ingest, rss, subscribe
from tests.inert import mail_problems
from tests.mailbox import html_of, messages, text_of

DAY0 = datetime(2026, 10, 5, 8, tzinfo=UTC)  # in the past: sending uses the real clock
NEWS = rss(
    ("Court jails man who cloned his boss's voice", "https://wire.example/1", "<p>He used an AI tool.</p>"),
    ("Regulator fines app over children's data", "https://wire.example/2", "<p>Profiling of users under 13.</p>"),
    ("Ransomware gang leaks council files", "https://wire.example/3", "<p>300 GB published.</p>"),
    ("Police warn of AI nudes used to blackmail teenagers", "https://wire.example/4", "<p>Sextortion cases rise.</p>"),
)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url, mail_url=f"file://{tmp_path}/outbox", secret_key="k", base_url="https://news.example"
    )


def send(engine: Engine, settings: Settings, ruleset: Ruleset, now: datetime) -> tuple[int, int, int]:
    plan = plan_edition(engine, settings, ruleset, now)
    report = deliver_queued(engine, settings, ruleset, make_signer(settings, engine))
    return report.sent, plan.empty, report.cancelled


def outbox_dir(settings: Settings) -> Path:
    return Path(settings.mail_url.removeprefix("file://"))


def test_each_reader_gets_their_topics_once(engine: Engine, settings: Settings, ruleset: Ruleset) -> None:
    subscribe(engine, settings, "deep@example.org", ["deepfakes"], "daily", DAY0 - timedelta(days=1), ruleset)
    subscribe(
        engine,
        settings,
        "kids@example.org",
        ["child-protection", "ai-misuse"],
        "weekly",
        DAY0 - timedelta(days=1),
        ruleset,
    )
    subscribe(engine, settings, "late@example.org", ["deepfakes"], "daily", DAY0 + timedelta(hours=1), ruleset)
    ingest(engine, ruleset, NEWS, DAY0)
    assert send(engine, settings, ruleset, DAY0 + timedelta(hours=2)) == (3, 0, 0)
    mails = {m["To"]: m for m in messages(outbox_dir(settings))}
    # late@ confirmed after the stories came in, and still gets the edition like everyone else.
    assert set(mails) == {"deep@example.org", "kids@example.org", "late@example.org"}
    assert mails["late@example.org"]["Subject"] == "Police warn of AI nudes used to blackmail... + 1 more on Deepfakes"

    deep = mails["deep@example.org"]
    assert deep["Subject"] == "Police warn of AI nudes used to blackmail... + 1 more on Deepfakes"
    assert "cloned his boss's voice" in text_of(deep) and "Ransomware" not in text_of(deep)
    kids = mails["kids@example.org"]
    # Three matching stories, the blackmail one carries both of the reader's topics but appears once.
    # The sections' names would leave too little of the headline: the count alone.
    assert kids["Subject"] == "Police warn of AI nudes used to blackmail teenagers + 2 more"
    # (The HTML part also has the lead's headline in its hidden preheader, for the inbox's preview line.)
    assert text_of(kids).count("blackmail teenagers") == 1 and html_of(kids).count('href="https://wire.example/4"') == 1
    # Sending again: everyone has this edition; nothing goes out twice.
    assert send(engine, settings, ruleset, DAY0 + timedelta(hours=3)) == (0, 0, 0)
    assert len(messages(outbox_dir(settings))) == 3


def test_the_next_edition_has_only_what_is_new(engine: Engine, settings: Settings, ruleset: Ruleset) -> None:
    subscribe(engine, settings, "deep@example.org", ["deepfakes"], "daily", DAY0 - timedelta(days=1), ruleset)
    ingest(engine, ruleset, NEWS, DAY0)
    send(engine, settings, ruleset, DAY0 + timedelta(hours=2))
    later = DAY0 + timedelta(days=1)
    ingest(engine, ruleset, rss(("Deepfake of minister used in scam ads", "https://wire.example/5", "")), later)
    assert send(engine, settings, ruleset, later + timedelta(hours=1)) == (1, 0, 0)
    second = messages(outbox_dir(settings))[-1]
    assert second["Subject"] == "Deepfake of minister used in scam ads"
    assert "minister" in text_of(second) and "boss's voice" not in text_of(second)
    with session_scope(engine) as s:
        person = subscribers.by_email(s, "deep@example.org")
        assert person is not None
        exported = export_subscriber(s, person)
    assert [d["edition"] for d in exported["deliveries"]] == ["daily:2026-10-05", "daily:2026-10-06"]


def test_a_failed_digest_is_not_queued_again_and_the_next_edition_follows(
    engine: Engine, settings: Settings, ruleset: Ruleset
) -> None:
    subscribe(engine, settings, "deep@example.org", ["deepfakes"], "daily", DAY0 - timedelta(days=1), ruleset)
    ingest(engine, ruleset, NEWS, DAY0)
    assert plan_edition(engine, settings, ruleset, DAY0 + timedelta(hours=2)).queued == 1
    with session_scope(engine) as s:
        person = subscribers.by_email(s, "deep@example.org")
        assert person is not None
        (row,) = outbox.deliveries_of(s, person.id)
        outbox.mark_failed(s, row.id, "550 mailbox unavailable", DAY0 + timedelta(hours=2))
    # Planned again the same day: the edition is theirs already, failed or not.
    assert plan_edition(engine, settings, ruleset, DAY0 + timedelta(hours=3)).already == 1
    later = DAY0 + timedelta(days=1)
    ingest(engine, ruleset, rss(("Deepfake of minister used in scam ads", "https://wire.example/5", "")), later)
    assert send(engine, settings, ruleset, later + timedelta(hours=1)) == (1, 0, 0)
    (mail,) = messages(outbox_dir(settings))
    # Its stories are not sent late: the next edition starts where the failed one's edition ended.
    assert "minister" in text_of(mail) and "boss's voice" not in text_of(mail)


def test_nothing_new_sends_nothing_unless_configured(engine: Engine, settings: Settings, ruleset: Ruleset) -> None:
    subscribe(engine, settings, "quiet@example.org", ["child-protection"], "daily", DAY0, ruleset)
    assert send(engine, settings, ruleset, DAY0 + timedelta(hours=1)) == (0, 1, 0)
    chatty = settings.model_copy(update={"digest": DigestSettings(send_empty=True)})
    assert send(engine, chatty, ruleset, DAY0 + timedelta(days=1)) == (1, 0, 0)
    assert messages(outbox_dir(settings))[0]["Subject"] == "No new stories on Child protection"


def test_an_unsubscribe_between_queueing_and_sending_wins(engine: Engine, settings: Settings, ruleset: Ruleset) -> None:
    for name in ("stays", "leaves"):
        subscribe(engine, settings, f"{name}@example.org", ["deepfakes"], "daily", DAY0 - timedelta(days=1), ruleset)
    ingest(engine, ruleset, NEWS, DAY0)
    plan_edition(engine, settings, ruleset, DAY0 + timedelta(hours=1))
    with session_scope(engine) as s:
        leaving = subscribers.by_email(s, "leaves@example.org")
        assert leaving is not None
        signup.unsubscribe(s, leaving, "one-click", DAY0 + timedelta(hours=1))
    report = deliver_queued(engine, settings, ruleset, make_signer(settings, engine))
    assert report.sent == 1
    assert [m["To"] for m in messages(outbox_dir(settings))] == ["stays@example.org"]
    with session_scope(engine) as s:
        leaving = subscribers.by_email(s, "leaves@example.org")
        assert leaving is not None
        (row,) = outbox.deliveries_of(s, leaving.id)
        assert (row.state, row.last_error) == ("cancelled", "not sent: unsubscribed before sending")


def test_headers_links_and_parts(engine: Engine, settings: Settings, ruleset: Ruleset) -> None:
    subscribe(engine, settings, "deep@example.org", ["deepfakes"], "daily", DAY0 - timedelta(days=1), ruleset)
    ingest(engine, ruleset, NEWS, DAY0)
    send(engine, settings, ruleset, DAY0 + timedelta(hours=2))
    (mail,) = messages(outbox_dir(settings))
    assert mail.get_content_type() == "multipart/alternative"
    assert mail["From"] == f"{settings.mail.from_name} <{settings.mail.from_address}>"
    assert mail["List-Id"] == f"{settings.mail.from_name} <{settings.mail.list_id}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.fullmatch(r"<(https://news\.example/unsubscribe/\S+)>", mail["List-Unsubscribe"])
    assert unsubscribe is not None
    signer = make_signer(settings, engine)
    with session_scope(engine) as s:
        person = subscribers.by_email(s, "deep@example.org")
        assert person is not None
        key = person.link_key
    assert signer.read("unsubscribe", unsubscribe.group(1).rsplit("/", 1)[1]) == key
    text, html = text_of(mail), html_of(mail)
    for part in (text, html):
        assert unsubscribe.group(1) in part and "/preferences/" in part and "https://news.example/privacy" in part
        assert settings.mail.contact_line in part and "placeholder.invalid" not in part
        assert "You get this because you subscribed to a daily digest on: Deepfakes." in part
    assert 'href="https://wire.example/1"' in html  # straight to the story: no tracking redirect
    # CSS inlined for mail clients; only the phone and dark-scheme rules stay a style block.
    assert re.findall(r"<style[^>]*>", html) == ['<style data-css-inline="keep">'] and 'style="' in html
    assert "<img" not in html
    with session_scope(engine) as s:
        (row,) = outbox.deliveries_of(s, person.id)
    assert mail["Message-ID"] == row.message_id
    assert re.fullmatch(r"<daily\.2026-10-05\.[0-9a-f]{32}@localhost>", mail["Message-ID"])


def test_hostile_feed_content_comes_out_inert(engine: Engine, settings: Settings, ruleset: Ruleset) -> None:
    subscribe(engine, settings, "deep@example.org", ["deepfakes"], "daily", DAY0 - timedelta(days=1), ruleset)
    hostile = rss(
        (
            "Deepfake <script>alert(1)</script> law\r\nBcc: victim@example.org",
            "javascript:alert(1)",
            '<img src="https://tracker.example/p.gif" onerror="x()"><a href="javascript:evil()">deepfake</a>'
            "<style>body{background:url(https://tracker.example/bg)}</style>"
            "<div style='width:expression(alert(1))'>x</div>",
        ),
        ("Deepfake " + "very long title " * 500, "https://wire.example/long", "\udcff\udcfe invalid bytes deepfake"),
    )
    ingest(engine, ruleset, hostile, DAY0)
    send(engine, settings, ruleset, DAY0 + timedelta(hours=2))
    (mail,) = messages(outbox_dir(settings))
    html, text = html_of(mail), text_of(mail)
    assert mail_problems(html) == []
    for forbidden in ("<script", "javascript:", "onerror", "tracker.example", "expression("):
        assert forbidden not in html.lower() and forbidden not in text.lower()
    assert "Deepfake law Bcc: victim@example.org" in text  # one line of plain text: the script is gone
    assert "\nBcc:" not in mail.as_string().split("\n\n", 1)[0]
    assert all(len(line) < 1000 for line in mail.as_string().splitlines())


def test_rendering_is_shared_between_readers_with_the_same_choices(
    engine: Engine, settings: Settings, ruleset: Ruleset, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(6):
        subscribe(
            engine,
            settings,
            f"r{i}@example.org",
            ["deepfakes"] if i < 4 else ["child-protection"],
            "daily",
            DAY0 - timedelta(days=1),
            ruleset,
        )
    ingest(engine, ruleset, NEWS, DAY0)
    calls = []
    original = batches.render_digest
    monkeypatch.setattr(batches, "render_digest", lambda *a, **k: calls.append(1) or original(*a, **k))
    assert send(engine, settings, ruleset, DAY0 + timedelta(hours=2))[0] == 6
    assert len(calls) == 2
    bodies = {
        text_of(m).split("--\nYou get this")[0] for m in messages(outbox_dir(settings)) if "Deepfakes" in m["Subject"]
    }
    assert len(bodies) == 1
    links = {re.search(r"Unsubscribe: (\S+)", text_of(m)).group(1) for m in messages(outbox_dir(settings))}  # type: ignore[union-attr]
    assert len(links) == 6


def test_deliveries_are_recorded_for_export(engine: Engine, settings: Settings, ruleset: Ruleset) -> None:
    subscribe(engine, settings, "deep@example.org", ["deepfakes"], "daily", DAY0 - timedelta(days=1), ruleset)
    ingest(engine, ruleset, NEWS, DAY0)
    send(engine, settings, ruleset, DAY0 + timedelta(hours=2))
    with session_scope(engine) as s:
        person = subscribers.by_email(s, "deep@example.org")
        assert person is not None
        (row,) = outbox.deliveries_of(s, person.id)
        assert (row.state, row.attempts, len(json.loads(row.story_ids))) == ("sent", 1, 2)


def test_readers_who_have_not_accepted_a_new_policy_wait_when_configured(
    engine: Engine, settings: Settings, ruleset: Ruleset
) -> None:
    subscribe(engine, settings, "old@example.org", ["deepfakes"], "daily", DAY0 - timedelta(days=1), ruleset)
    ingest(engine, ruleset, NEWS, DAY0)
    newer = PrivacySettings(policy_version="2027-01-01", send_before_new_policy_accepted=False)
    strict = settings.model_copy(update={"privacy": newer})
    assert send(engine, strict, ruleset, DAY0 + timedelta(hours=2)) == (0, 0, 0)
    lenient = settings.model_copy(update={"privacy": PrivacySettings(policy_version="2027-01-01")})
    assert send(engine, lenient, ruleset, DAY0 + timedelta(hours=3)) == (1, 0, 0)


def test_the_rate_limit_spaces_messages_out() -> None:
    limit = RateLimit(per_second=50)
    started = time.monotonic()
    for _ in range(11):
        limit.wait()
    assert time.monotonic() - started >= 0.19  # ten intervals of 20 ms after the first message
    unlimited = RateLimit(per_second=0)
    started = time.monotonic()
    for _ in range(1000):
        unlimited.wait()
    assert time.monotonic() - started < 0.1

"""An editor's edition in headless Chromium: sign in, open the planned edition, exclude a story, pick a
lead, write a note, preview as two topic groups, approve; the SMTP server then receives digests with
the note and the lead and without the excluded story. Screenshots at 1280 and 390 px in test-artifacts/.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from digest.config import DigestSettings, Settings
from digest.db.engine import session_scope
from digest.digests.build import plan_edition, release_due
from digest.digests.deliver import deliver_queued
from digest.digests.editions import edition_for, edition_label
from digest.editors import store as editors
from digest.feeds.models import Story
from digest.subscribers.links import make_signer
from digest.tagging.rules import Ruleset
from tests.conftest import ROOT
from tests.digests.helpers import ingest, subscribe
from tests.mailbox import html_of, text_of
from tests.smtpserver import SmtpServer
from tests.web.test_browser import ARGS, ARTIFACTS, CHROMIUM, live_server, pytestmark  # noqa: F401

EXCLUDED = "Court jails fraudster who cloned a company director's voice"
LEAD = "Lawmakers pass bill criminalising sexually explicit deepfakes"


@pytest.fixture
def web_settings(database_url: str, smtp_server: SmtpServer) -> Settings:
    return Settings(
        database_url=database_url,
        mail_url=smtp_server.url,
        secret_key="test-signing-key",
        base_url="http://testserver",
        digest=DigestSettings(review="approve"),
    )


def story_id(engine: Engine, title: str) -> int:
    with session_scope(engine) as s:
        found = s.scalar(select(Story.id).where(Story.title == title))
    assert found is not None
    return found


def test_an_editor_prepares_and_approves_an_edition(
    live_server: str,  # noqa: F811
    engine: Engine,
    web_settings: Settings,
    ruleset: Ruleset,
    smtp_server: SmtpServer,
    database_url: str,
) -> None:
    from playwright.sync_api import Page, expect, sync_playwright

    now = datetime.now(UTC)
    with session_scope(engine) as s:
        editors.set_editor(s, "alice", "correct horse battery", now)
    for email, topics in (("deep@example.org", ["deepfakes"]), ("kids@example.org", ["child-protection"])):
        subscribe(engine, web_settings, email, topics, "daily", now - timedelta(days=1), ruleset)
    wire = (ROOT / "config" / "sample-feeds" / "cyberlaw-wire.xml").read_bytes()
    ingest(engine, ruleset, wire, now, feed_url="https://cyberlaw-wire.example/rss")
    assert plan_edition(engine, web_settings, ruleset, now).waiting_readers == 2  # planned; waits for approval
    excluded, lead = story_id(engine, EXCLUDED), story_id(engine, LEAD)
    key = edition_for("daily", now, "UTC")

    shots = ARTIFACTS / f"edition-{database_url.split(':')[0].split('+')[0]}"
    shots.mkdir(parents=True, exist_ok=True)

    def snap(page: Page, name: str) -> None:
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=shots / f"{name}-{width}.png", full_page=True)
            mail = page.locator("iframe.mail")
            if mail.count():
                # Full-page captures leave the sandboxed frame blank: the mail itself, as seen on screen.
                mail.scroll_into_view_if_needed()
                page.screenshot(path=shots / f"{name}-mail-{width}.png")
        page.set_viewport_size({"width": 1280, "height": 900})

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(live_server + "/editor/editions")
        page.get_by_label("Name").fill("alice")
        page.get_by_label("Password").fill("correct horse battery")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Editions").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Editions")
        page.get_by_role("link", name=edition_label(key)).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Daily edition, {edition_label(key)}")
        expect(page.get_by_text("waiting for approval")).to_be_visible()
        snap(page, "1-planned")

        page.get_by_role("button", name=f"Exclude story {excluded}").click()
        expect(page.get_by_role("status")).to_contain_text(f"Story {excluded} excluded.")
        page.get_by_role("button", name=f"Make story {lead} the lead").click()
        expect(page.get_by_role("status")).to_contain_text(f"Story {lead} is the lead.")
        page.get_by_label("Note for the whole edition (Markdown)").fill(
            "**Good morning.** A new law on [explicit deepfakes](https://law.example/bill) leads today."
        )
        page.get_by_role("button", name="Save note", exact=True).click()
        expect(page.get_by_role("status")).to_contain_text("Note for the whole edition saved.")
        snap(page, "2-decided")

        page.get_by_role("link", name="Preview as Deepfakes").click()
        expect(page.locator("#preview-about")).to_contain_text("What readers of Deepfakes get in the daily edition")
        frame = page.frame_locator("iframe.mail")
        expect(frame.get_by_text("Lead story · Deepfakes")).to_be_visible()
        expect(frame.get_by_role("link", name=LEAD)).to_be_visible()
        expect(frame.get_by_text("Good morning.", exact=True)).to_be_visible()  # the note (also the preheader)
        expect(frame.get_by_role("link", name=EXCLUDED)).to_have_count(0)
        snap(page, "3-preview-deepfakes")
        page.goto(live_server + f"/editor/editions/{key.partition(':')[2]}")
        page.get_by_role("link", name="Preview as Child protection").click()
        frame = page.frame_locator("iframe.mail")
        expect(
            frame.get_by_role("link", name="Regulator fines video app over children's data used for ad targeting")
        ).to_be_visible()
        expect(frame.get_by_text("Good morning.", exact=True)).to_be_visible()  # the note (also the preheader)
        expect(frame.get_by_text("Lead story")).to_have_count(0)
        snap(page, "4-preview-child-protection")

        page.goto(live_server + "/editor/editions")
        expect(page.get_by_role("heading", level=1)).to_have_text("Editions")
        page.get_by_role("link", name=edition_label(key)).click()
        page.get_by_role("button", name="Approve edition").click()
        expect(page.get_by_role("status")).to_contain_text(
            "Approved: the edition goes out at the next send or retry tick."
        )
        expect(page.locator(".audit")).to_contain_text("alice approve")
        snap(page, "5-approved")
        browser.close()

    # The next retry tick sends the approved edition.
    released = release_due(engine, web_settings, ruleset, datetime.now(UTC))
    assert released is not None and released.queued == 2
    assert deliver_queued(engine, web_settings, ruleset, make_signer(web_settings, engine)).sent == 2
    mails = {r.message["To"]: r.message for r in smtp_server.sink.received}
    deep, kids = mails["deep@example.org"], mails["kids@example.org"]
    for part in (text_of(deep), html_of(deep)):
        assert "Good morning." in part and "Lead story" in part and "cloned a company director" not in part
        body = part.lower().split("<body", 1)[-1].split("</div>", 1)[-1]  # after the title and preheader
        assert body.index("lead story") < body.index("criminalising")
    for part in (text_of(kids), html_of(kids)):
        assert "Good morning." in part and "Regulator fines video app" in part
    assert "explicit deepfakes (https://law.example/bill)" in text_of(deep)
    assert Path(shots / "5-approved-390.png").exists()

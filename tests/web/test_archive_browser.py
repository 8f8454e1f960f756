"""The digest and its archive in headless Chromium: the mail as a reader's client shows it at 390 and
800 px (and in a dark scheme), and the archive pages at 1280 and 390 px, checked with axe-core (no
serious or critical violation) and for sideways scrolling. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from digest.config import Settings
from digest.db.engine import session_scope
from digest.digests import review
from digest.digests.editions import edition_for
from digest.tagging.rules import Ruleset
from tests.conftest import ROOT
from tests.digests.helpers import ingest, subscribe
from tests.mailbox import html_of, messages, text_of
from tests.web.test_archive import send_edition, story_id
from tests.web.test_browser import ARGS, ARTIFACTS, CHROMIUM, live_server  # noqa: F401 (live_server: a fixture)
from tests.web.test_console_journey import Audit, axe_script  # noqa: F401 (axe_script: a fixture)

pytestmark = pytest.mark.skipif(
    not shutil.which(CHROMIUM) and os.environ.get("TEST_REQUIRE_BROWSER") != "1", reason=f"no Chromium at {CHROMIUM}"
)


def test_the_mail_and_the_archive_in_a_browser(
    live_server: str,  # noqa: F811
    engine: Engine,
    web_settings: Settings,
    ruleset: Ruleset,
    database_url: str,
    outbox: Path,
    axe_script: Path,  # noqa: F811
) -> None:
    from playwright.sync_api import expect, sync_playwright

    settings = web_settings.model_copy(update={"base_url": live_server})
    now = datetime.now(UTC)
    subscribe(
        engine, settings, "both@example.org", ["deepfakes", "child-protection"], "daily", now - timedelta(1), ruleset
    )
    ingest(engine, ruleset, (ROOT / "config" / "sample-feeds" / "policy-desk.xml").read_bytes(), now)
    ingest(
        engine,
        ruleset,
        (ROOT / "config" / "sample-feeds" / "cyberlaw-wire.xml").read_bytes(),
        now,
        "https://w.example/",
    )
    edition = edition_for("daily", now, settings.digest.timezone)
    with session_scope(engine) as s:
        review.set_lead(s, edition, story_id(engine, "Nudify"), "alice", now)
        review.set_note(s, edition, None, "Good morning. **Two** courts ruled on deepfakes.", "bob", now, ruleset.slugs)
    send_edition(engine, settings, ruleset, now)
    (mail,) = messages(outbox)
    shots = ARTIFACTS / f"archive-{database_url.split(':')[0].split('+')[0]}"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        # The mail as a client shows it: its own HTML, no network (every request is refused).
        for scheme in ("light", "dark"):
            context = browser.new_context(viewport={"width": 800, "height": 900}, color_scheme=scheme)
            context.route("**/*", lambda route: route.abort())
            page = context.new_page()
            page.set_content(html_of(mail))
            for width in (800, 390):
                page.set_viewport_size({"width": width, "height": 900})
                assert page.evaluate("document.documentElement.scrollWidth") <= width, f"mail scrolls at {width} px"
                # The preheader is for the inbox's preview line only: nothing of it shows in the mail.
                hidden = page.locator("body > div").first
                assert hidden.inner_text().startswith("Good morning. Two courts") and not hidden.is_visible()
                expect(page.get_by_role("heading", level=2).first).to_contain_text("Nudify")
                lead = page.locator(".lead-title").first.bounding_box()
                item = page.locator(".item-title").first.bounding_box()
                assert lead and item and lead["y"] < item["y"] and lead["height"] > item["height"]  # first, larger
                page.screenshot(path=shots / f"mail-{scheme}-{width}.png", full_page=True)
            background = page.evaluate("getComputedStyle(document.querySelector('.card')).backgroundColor")
            assert (background == "rgb(31, 31, 31)") == (scheme == "dark"), background
            context.close()

        # The archive: the index, and the web copy the mail links to, checked like every page.
        context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
        page = context.new_page()
        audit = Audit(page, axe_script, shots)
        page.goto(live_server + "/archive/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Archive")
        audit("archive-index")
        view = re.search(r"View in the browser: (\S+)", text_of(mail))
        assert view is not None
        page.get_by_role("link", name="Child protection + Deepfakes").click()
        assert page.url == view.group(1)  # the index and the mail lead to the same page
        expect(page.get_by_role("heading", level=1)).to_have_text(settings.mail.from_name)
        expect(page.get_by_text("Lead story · ")).to_be_visible()
        audit("archive-edition")
        page.get_by_role("link", name="All editions").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Archive")
        browser.close()

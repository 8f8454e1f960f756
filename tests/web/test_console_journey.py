"""An editor's day in headless Chromium: feeds edited, deleted, imported and exported as OPML; a story
found and its topics changed; a reader's requests handled; a password changed.

Every console page is checked with axe-core at 1280 and 390 px wide (no serious or critical
violation) and must not scroll sideways at 390 px. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import listparser
import pytest
from sqlalchemy import Engine

from digest.config import Settings
from digest.db.engine import session_scope
from digest.editors import store as editors
from digest.feeds import store as feeds
from digest.feeds import topic_store
from digest.subscribers import store as subscribers
from digest.subscribers.importer import add_subscriber
from digest.tagging.rules import Ruleset
from tests.conftest import ROOT
from tests.digests.helpers import ingest, subscribe
from tests.mailbox import messages
from tests.web.test_browser import ARGS, ARTIFACTS, CHROMIUM, live_server  # noqa: F401 (live_server: a fixture)

AXE_DIR = ROOT / ".cache" / "axe"
AXE = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
OPML = ROOT / "tests" / "feeds" / "opml"
WIDTHS = (1280, 390)
PASSWORD = "correct horse battery"

pytestmark = pytest.mark.skipif(
    not shutil.which(CHROMIUM) and os.environ.get("TEST_REQUIRE_BROWSER") != "1", reason=f"no Chromium at {CHROMIUM}"
)


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe-core's browser script, installed from npm into .cache/axe the first time (one worker at a time)."""
    AXE_DIR.mkdir(parents=True, exist_ok=True)
    with (AXE_DIR / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not AXE.exists():
            npm = shutil.which("npm")
            if npm is None:
                if os.environ.get("TEST_REQUIRE_BROWSER") == "1":
                    pytest.fail("npm is needed to install axe-core for the accessibility checks")
                pytest.skip("no npm to install axe-core with")
            subprocess.run(
                [npm, "install", "--prefix", str(AXE_DIR), "--no-audit", "--no-fund", "axe-core@4"],
                check=True,
                capture_output=True,
                timeout=300,
            )
    return AXE


class Audit:
    """Runs axe-core and the sideways-scroll check on the page in hand, at each width, with screenshots."""

    def __init__(self, page: Any, script: Path, shots: Path) -> None:
        self.page, self.script, self.shots = page, script, shots
        self.pages: list[str] = []

    def __call__(self, name: str) -> None:
        self.pages.append(name)
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 900})
            if not self.page.evaluate("typeof window.axe !== 'undefined'"):
                self.page.add_script_tag(path=str(self.script))
            result = self.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            serious = [
                f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
                for v in result["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            assert serious == [], f"{name} at {width} px: {serious}"
            scroll = self.page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, f"{name} scrolls sideways at {width} px ({scroll} px wide)"
            self.page.screenshot(path=self.shots / f"{len(self.pages):02d}-{name}-{width}.png", full_page=True)
        self.page.set_viewport_size({"width": 1280, "height": 900})


def _newsroom(engine: Engine, settings: Settings, ruleset: Ruleset) -> None:
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        editors.set_editor(s, "alice", PASSWORD, now)
        add_subscriber(s, settings, "pending.reader@example.org", ["deepfakes"], "weekly", False, ruleset.slugs, now)
    subscribe(engine, settings, "deep.reader@example.org", ["deepfakes"], "daily", now - timedelta(days=1), ruleset)
    document = (ROOT / "config" / "sample-feeds" / "policy-desk.xml").read_bytes()
    ingest(engine, ruleset, document, now, feed_url="https://policy-desk.example/feed.atom")


def test_an_editors_day_in_the_console(
    live_server: str,  # noqa: F811
    engine: Engine,
    web_settings: Settings,
    ruleset: Ruleset,
    database_url: str,
    outbox: Path,
    axe_script: Path,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    _newsroom(engine, web_settings, ruleset)
    shots = ARTIFACTS / f"console-{database_url.split(':')[0].split('+')[0]}"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        # The console forbids scripts by its Content-Security-Policy; axe is injected past it.
        context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True, accept_downloads=True)
        page = context.new_page()
        audit = Audit(page, axe_script, shots)
        status = page.locator(".notice-success")
        problem = page.locator(".notice-error")

        page.goto(live_server + "/editor/login")
        audit("sign-in")
        page.get_by_label("Name").fill("alice")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Feeds")

        # Feeds: OPML import, a duplicate refused, edit, export, delete.
        page.get_by_label("OPML file to import").set_input_files(OPML / "miniflux.opml")
        page.get_by_role("button", name="Import feeds").click()
        expect(status).to_contain_text("Added 3, already there 0")
        audit("feeds")
        page.get_by_label("Feed address").fill("https://DOCKET.example/feed.xml/")
        page.get_by_role("button", name="Add feed").click()
        expect(problem).to_contain_text("is already added as https://docket.example/feed.xml (Docket Watch)")
        expect(page.get_by_label("Feed address")).to_have_value("https://DOCKET.example/feed.xml/")
        audit("feeds-duplicate-refused")

        page.get_by_role("link", name="Edit Wire").click()  # the feed the newsroom was ingested from
        expect(page.get_by_role("heading", level=1)).to_contain_text("Edit")
        page.get_by_label("Minutes between polls").fill("often")
        page.get_by_role("button", name="Save feed").click()
        expect(problem).to_contain_text("not 'often'")
        expect(page.get_by_label("Minutes between polls")).to_have_value("often")
        audit("feed-edit-mistake")
        page.get_by_label("Title").fill("Policy Desk, edited")
        page.get_by_label("Minutes between polls").fill("90")
        page.get_by_role("button", name="Save feed").click()
        expect(status).to_contain_text("feed Policy Desk, edited")
        expect(page.get_by_role("table")).to_contain_text("every 90 min")

        with page.expect_download() as download:
            page.get_by_role("link", name="Export every feed as OPML").click()
        exported = tmp_path / "feeds.opml"
        download.value.save_as(exported)
        assert len(listparser.parse(exported.read_bytes()).feeds) == 4

        page.get_by_role("link", name="Edit Docket Watch").click()
        audit("feed-edit")
        page.get_by_role("button", name="Delete feed").click()
        expect(status).to_contain_text("feed Docket Watch")
        expect(status).to_contain_text("its 0 stories stay")
        expect(page.get_by_role("table")).not_to_contain_text("Docket Watch")

        # Stories: search, then topics changed by a choice per topic.
        page.get_by_role("link", name="Stories").click()
        audit("stories")
        page.get_by_label("Words in the title or summary").fill("deepfakes bill")
        page.get_by_role("button", name="Search").click()
        story = page.locator("article", has_text="Lawmakers pass bill criminalising sexually explicit deepfakes")
        expect(page.locator("article")).to_have_count(1)
        story.get_by_text("Change topics").click()
        story.get_by_role("group", name="Deepfakes").get_by_label("pinned off").check()
        story.get_by_role("group", name="Child protection").get_by_label("pinned on").check()
        audit("stories-search")
        story.get_by_role("button", name="Save topics").click()
        expect(status).to_contain_text("it now carries")
        expect(page.get_by_label("Words in the title or summary")).to_have_value("deepfakes bill")
        with session_scope(engine) as s:
            story_id = int(page.locator("article .meta").first.inner_text().split(" ")[0].lstrip("#"))
            assert topic_store.manual_decisions(s, story_id) == {"deepfakes": "removed", "child-protection": "pinned"}

        page.get_by_role("link", name="Topics").click()
        audit("topics")
        page.get_by_role("link", name="Digest preview").click()
        page.get_by_label("Subscriber address").fill("deep.reader@example.org")
        page.get_by_role("button", name="Preview", exact=True).click()
        expect(page.frame_locator("iframe.mail").get_by_role("link", name="Manage your topics")).to_be_visible()
        # (With bypass_csp Chromium leaves the sandboxed frame out of screenshots; its content is checked above.)
        audit("preview")

        # Subscribers: a reader's requests, and an import.
        page.get_by_role("link", name="Subscribers").click()
        page.get_by_label("Address contains").fill("pending.reader")
        page.get_by_role("button", name="Search").click()
        audit("subscribers-search")
        page.get_by_role("link", name="pending.reader@example.org", exact=True).click()
        audit("subscriber")
        page.get_by_role("button", name="Resend the confirmation mail").click()
        expect(status).to_contain_text("subscriber pending.reader@example.org")
        assert [m["To"] for m in messages(outbox)] == ["pending.reader@example.org"]
        with page.expect_download() as download:
            page.get_by_role("link", name="Export everything stored about them (JSON)").click()
        data = json.loads(Path(download.value.path()).read_text())
        assert data["email"] == "pending.reader@example.org" and data["status"] == "pending"
        page.get_by_role("button", name="Unsubscribe on their request").click()
        expect(status).to_contain_text("Unsubscribed on their request")
        expect(page.get_by_role("table")).to_contain_text("by an editor, on the reader's request")
        page.get_by_label("They asked to be erased").check()
        page.get_by_role("button", name="Erase pending.reader@example.org").click()
        expect(status).to_contain_text("Erased; only a salted hash remains")
        with session_scope(engine) as s:
            assert subscribers.by_email(s, "pending.reader@example.org") is None

        people = tmp_path / "people.csv"
        people.write_text("email,topics,frequency,confirmed\nnew.one@example.org,ai-misuse,daily,yes\nbroken,,,\n")
        page.get_by_label("CSV file").set_input_files(people)
        page.get_by_role("button", name="Import", exact=True).click()
        expect(status).to_contain_text("Imported 1, skipped 0, 1 bad rows")
        expect(page.locator(".report")).to_contain_text("line 3: error:")
        audit("subscribers-import")

        # Account: a new password.
        page.get_by_role("link", name="Account").click()
        audit("account")
        page.get_by_label("Current password").fill(PASSWORD)
        page.get_by_label("New password", exact=True).fill("a brand new passphrase")
        page.get_by_label("New password again").fill("a brand new passphrase")
        page.get_by_role("button", name="Change password").click()
        expect(status).to_contain_text("Changed; every other session is signed out")
        page.get_by_role("button", name="Sign out alice").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Editor sign-in")
        browser.close()
    with session_scope(engine) as s:
        assert editors.check_login(s, "alice", "a brand new passphrase", datetime.now(UTC)) is not None
        assert {f.title for f, _n in feeds.list_feeds(s)} >= {"Policy Desk, edited", "Cyber Law Wire"}

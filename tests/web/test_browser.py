"""A reader's whole journey in headless Chromium: subscribe, confirm, change topics, unsubscribe.

Screenshots of each step are saved in test-artifacts/ for people to look at.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import Engine

from digest.config import Settings
from digest.db.engine import session_scope
from digest.subscribers import store
from digest.tagging.rules import Ruleset
from digest.web.app import create_app
from tests.mailbox import link, messages

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Chromium on a machine without network: no background traffic, no sandbox (tests run as root).
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# CI installs Chromium and sets TEST_REQUIRE_BROWSER, so there a missing browser fails instead of skipping.
pytestmark = pytest.mark.skipif(
    not shutil.which(CHROMIUM) and os.environ.get("TEST_REQUIRE_BROWSER") != "1", reason=f"no Chromium at {CHROMIUM}"
)


@pytest.fixture
def live_server(web_settings: Settings, engine: Engine, ruleset: Ruleset) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    settings = web_settings.model_copy(update={"base_url": base})
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, engine, ruleset), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield base
    server.should_exit = True
    thread.join(timeout=10)


def test_subscribe_confirm_change_topics_unsubscribe(
    live_server: str, outbox: Path, engine: Engine, database_url: str
) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = ARTIFACTS / f"browser-{database_url.split(':')[0].split('+')[0]}"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 1100})
        page.goto(live_server + "/")
        expect(page.get_by_role("heading", level=1)).to_contain_text("only on the topics you choose")
        page.screenshot(path=shots / "1-form.png", full_page=True)

        # Keyboard first: the form must work without a mouse.
        page.get_by_label("Email address").fill("browser.reader@example.org")
        page.get_by_label("Deepfakes").check()
        page.get_by_label("Child protection").check()
        page.get_by_label("Daily: one digest each morning").check()
        page.get_by_role("button", name="Subscribe").press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
        page.screenshot(path=shots / "2-check-inbox.png", full_page=True)

        page.goto(live_server + link(messages(outbox)[-1], "confirm"))
        expect(page.get_by_role("heading", level=1)).to_have_text("You are subscribed")
        page.screenshot(path=shots / "3-confirmed.png", full_page=True)

        page.get_by_role("link", name="Change your topics or frequency").click()
        expect(page.get_by_label("Deepfakes")).to_be_checked()
        page.get_by_label("Child protection").uncheck()
        page.get_by_label("AI misuse").check()
        page.get_by_label("Weekly: one digest each week").check()
        page.get_by_role("button", name="Save my choices").click()
        expect(page.get_by_role("status")).to_have_text("Your choices are saved.")
        page.screenshot(path=shots / "4-preferences-saved.png", full_page=True)
        with session_scope(engine) as s:
            reader = store.by_email(s, "browser.reader@example.org")
            assert reader is not None
            assert (reader.status, reader.frequency, reader.topic_slugs) == (
                "confirmed",
                "weekly",
                ["ai-misuse", "deepfakes"],
            )

        page.get_by_role("button", name="Unsubscribe from all mail").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
        page.screenshot(path=shots / "5-unsubscribed.png", full_page=True)
        browser.close()
    with session_scope(engine) as s:
        reader = store.by_email(s, "browser.reader@example.org")
        assert reader is not None and reader.status == "unsubscribed"


def test_editor_signs_in_previews_a_digest_and_checks_the_feeds(
    live_server: str, engine: Engine, web_settings: Settings, ruleset: Ruleset, database_url: str
) -> None:
    from datetime import UTC, datetime, timedelta

    from playwright.sync_api import expect, sync_playwright

    from digest.editors import store as editors
    from tests.conftest import ROOT
    from tests.digests.helpers import ingest, subscribe

    with session_scope(engine) as s:
        editors.set_editor(s, "alice", "correct horse battery", datetime.now(UTC))
    subscribe(
        engine, web_settings, "deep@example.org", ["deepfakes"], "daily", datetime.now(UTC) - timedelta(days=1), ruleset
    )
    ingest(
        engine,
        ruleset,
        (ROOT / "config" / "sample-feeds" / "policy-desk.xml").read_bytes(),
        datetime.now(UTC),
        feed_url="https://policy-desk.example/feed.atom",
    )
    shots = ARTIFACTS / f"editor-{database_url.split(':')[0].split('+')[0]}"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        page.goto(live_server + "/editor/feeds")
        expect(page.get_by_role("heading", level=1)).to_have_text("Editor sign-in")  # anonymous: sent to sign in
        page.get_by_label("Name").fill("alice")
        page.get_by_label("Password").fill("correct horse battery")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Feeds")
        expect(page.get_by_role("table")).to_contain_text("https://policy-desk.example/feed.atom")
        page.screenshot(path=shots / "1-feeds.png", full_page=True)

        page.get_by_role("link", name="Digest preview").click()
        page.get_by_label("Subscriber address").fill("deep@example.org")
        page.get_by_role("button", name="Preview", exact=True).click()
        expect(page.get_by_role("table")).to_contain_text("Nudify apps pulled from app stores after... + 1 more")
        frame = page.frame_locator("iframe.mail")
        expect(
            frame.get_by_role("link", name="Nudify apps pulled from app stores after city attorney's lawsuit")
        ).to_be_visible()
        page.screenshot(path=shots / "2-preview.png", full_page=True)

        page.get_by_role("link", name="Stories").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Stories")
        page.screenshot(path=shots / "3-stories.png", full_page=True)
        page.get_by_role("button", name="Sign out alice").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Editor sign-in")
        browser.close()

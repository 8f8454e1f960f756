"""Hostile feeds, end to end: polled from loopback, then shown to editors and mailed to a reader.

Every feed here was written to hurt: scripts, event handlers, ``javascript:`` and ``data:`` links, CSS
that loads things, CR/LF meant to forge mail headers, megabyte titles, XML and gzip bombs, redirect
loops. A separate "tracker" server on loopback is what the hostile content points at (img src, link
href, css url(), forms, frames, fetch() in scripts): whatever a browser would load from it, or any
injected script that ran, would show up there as a connection. The poll runs as its own ``digest
poll`` process, which must survive; the console pages and a digest are then opened in headless
Chromium, and not one script may run and not one connection may reach the tracker.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
import uvicorn
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Frame, sync_playwright
from sqlalchemy import Engine

from digest.config import DigestSettings, FeedSettings, Settings
from digest.db.engine import session_scope
from digest.digests.build import plan_edition
from digest.digests.deliver import deliver_queued
from digest.digests.preview import preview_message
from digest.editors import store as editors
from digest.events import store as event_store
from digest.feeds import store, story_store
from digest.subscribers.links import make_signer
from digest.tagging.rules import Ruleset
from digest.web.app import create_app
from tests.conftest import ROOT, TOPICS
from tests.digests.helpers import subscribe
from tests.httpserver import FeedServer, Route
from tests.mailbox import messages
from tests.web.test_browser import ARGS, CHROMIUM

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.skipif(
        not shutil.which(CHROMIUM) and os.environ.get("TEST_REQUIRE_BROWSER") != "1",
        reason=f"no Chromium at {CHROMIUM}",
    ),
]

PASSWORD = "correct horse battery"
READER = "reader@example.org"
TOPIC_WORDS = "Lawmakers pass bill criminalising sexually explicit deepfakes"
MEGABYTE = 1024 * 1024


def script(tracker: str, tag: str) -> str:
    """JavaScript that leaves every trace there is: a page flag, a dialog, a console line, a request."""
    return (
        f"window.__pwned=(window.__pwned||0)+1;alert('pwned {tag}');console.log('pwned {tag}');"
        f"fetch('{tracker}/ran/{tag}');new Image().src='{tracker}/ran-img/{tag}'"
    )


def rss(channel_title: str, items: list[tuple[str, str, str]], extra: str = "") -> bytes:
    """(title, link, description HTML) items; titles and links escaped as XML text, descriptions in CDATA."""
    body = "".join(
        f"<item><title>{escape(title)}</title><link>{escape(link)}</link><guid>g{n}-{escape(link)}</guid>"
        f"<description><![CDATA[{html}]]></description>{extra}</item>"
        for n, (title, link, html) in enumerate(items)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>{escape(channel_title)}</title><link>https://hostile.example/</link>{body}</channel></rss>"
    ).encode()


def hostile_feeds(t: str) -> dict[str, Route]:
    """The feeds that parse (and are stored, sanitised) and the ones that must fail, by path."""
    js = script
    scripts = rss(
        f"<script>{js(t, 'channel')}</script>Script Wire",
        [
            (
                f"<script>{js(t, 'title')}</script> {TOPIC_WORDS} 1",
                "https://hostile.example/1",
                f"<script>{js(t, 'desc')}</script><p>Before<script src='{t}/script-src.js'></script>after</p>",
            ),
            (
                f"{TOPIC_WORDS} 2 </title><script>{js(t, 'break')}</script>",
                "https://hostile.example/2",
                f"<noscript><p title='</noscript><img src=x onerror={js(t, 'mxss')}>'></p></noscript>"
                f"<svg><script>{js(t, 'svg')}</script></svg><math><mi><script>{js(t, 'math')}</script></mi></math>",
            ),
        ],
        extra=f"<content:encoded><![CDATA[<script>{js(t, 'content')}</script><p>Body</p>]]></content:encoded>",
    )
    handlers = rss(
        "Handler Wire",
        [
            (
                f'{TOPIC_WORDS} 3 <img src=x onerror="{js(t, "title-img")}">',
                "https://hostile.example/3",
                f'<img src=\'{t}/img.png\' onerror="{js(t, "onerror")}"><p onmouseover="{js(t, "hover")}">Hover</p>'
                f'<body onload="{js(t, "body")}"><svg onload="{js(t, "svg-onload")}"></svg>'
                f'<details open ontoggle="{js(t, "toggle")}"><summary>x</summary></details>'
                f"<a href='https://ok.example/' onclick=\"{js(t, 'click')}\""
                f' onfocus="{js(t, "focus")}" autofocus>link</a>'
                f"<video poster='{t}/poster.png'><source src='{t}/video.mp4'></video>"
                f'<input autofocus onfocus="{js(t, "input")}">'
                f"<iframe src='{t}/frame' onload=\"{js(t, 'frame')}\"></iframe>",
            ),
        ],
    )
    links = rss(
        "Link Wire",
        [
            (
                f"{TOPIC_WORDS} 4",
                f"javascript:{js(t, 'item-link')}",
                f'<a href="javascript:{js(t, "href")}">js</a>'
                f'<a href="JaVaScRiPt&#58;{js(t, "entity")}">entity</a><a href=" &#14;javascript:{js(t, "ws")}">ws</a>'
                f'<a href="data:text/html,<script>{js(t, "data")}</script>">data</a>'
                f"<a href=\"vbscript:msgbox(1)\">vb</a><form action='{t}/form'><button>go</button></form>"
                f"<object data='{t}/object'></object><embed src='{t}/embed'><base href='{t}/base/'>"
                f"<meta http-equiv='refresh' content='0;url={t}/refresh'>",
            ),
            (
                f"{TOPIC_WORDS} 5",
                "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
                f"<a href='{t}/plain-link'>a plain link to the tracker (never followed, only shown)</a>",
            ),
            (f"{TOPIC_WORDS} 6", f" JAVASCRIPT:{js(t, 'upper-link')}", "<p>x</p>"),
        ],
    )
    css = rss(
        f"<style>@import url({t}/channel.css);</style>CSS Wire",
        [
            (
                f"{TOPIC_WORDS} 7",
                "https://hostile.example/7",
                f'<p style="background:url({t}/style-attr.png)">styled</p>'
                f"<style>@import url('{t}/import.css'); body {{ background: url({t}/style-tag.png) }}</style>"
                f"<link rel='stylesheet' href='{t}/link.css'><link rel='preconnect' href='{t}/'>"
                f"<link rel='dns-prefetch' href='{t}/'><link rel='prefetch' href='{t}/prefetch'>"
                f'<div style="width:expression({js(t, "expression")})">ie</div>'
                f"<table background='{t}/table.png'><tr><td background='{t}/td.png'>x</td></tr></table>"
                f"<img srcset='{t}/srcset.png 2x'><picture><source srcset='{t}/picture.png'></picture>"
                f"<svg><image href='{t}/svg-image.png'/><use href='{t}/use.svg#x'/></svg>"
                f"<input type='image' src='{t}/input.png'><audio src='{t}/audio.mp3' autoplay></audio>",
            ),
        ],
    )
    crlf = rss(
        "CRLF Wire\r\nBcc: victim@example.org\r\nX-Injected: channel",
        [
            (
                f"{TOPIC_WORDS} 8\r\nBcc: victim@example.org\r\nX-Injected: title\r\n\r\n"
                f"<script>{js(t, 'crlf')}</script>",
                "https://hostile.example/8\r\nX-Injected: link",
                "<p>Header\r\nX-Injected: summary</p>",
            ),
        ],
    )
    huge = rss("M" * MEGABYTE, [(f"{TOPIC_WORDS} 9 " + "T" * MEGABYTE, "https://hostile.example/9", "x" * MEGABYTE)])
    atom = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        '<title type="html">&lt;img src=x onerror=alert(1)&gt;Atom Wire</title><id>urn:a</id>'
        f'<entry><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">{TOPIC_WORDS} 10'
        f"<script>{escape(js(t, 'atom-title'))}</script></div></title>"
        f'<link href="javascript:{escape(js(t, "atom-link"))}"/><id>urn:a:1</id>'
        "<updated>2026-11-30T10:00:00Z</updated>"
        f'<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><script>{escape(js(t, "atom"))}</script>'
        f'<img src="{t}/atom.png"/><p style="background:url({t}/atom-style.png)">x</p></div></content>'
        f'<summary type="html">&lt;script&gt;{escape(js(t, "atom-summary"))}&lt;/script&gt;'
        f"&lt;img src='{t}/atom-summary.png'&gt;</summary>"
        "</entry></feed>"
    ).encode()
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode() for i in range(1, 10)
        )
        + b']><rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title></item></channel></rss>'
    )
    bomb = gzip.compress(b"<rss>" + b" " * (40 * MEGABYTE), compresslevel=9)
    return {
        "/scripts.xml": Route(scripts),
        "/handlers.xml": Route(handlers),
        "/links.xml": Route(links),
        "/css.xml": Route(css),
        "/crlf.xml": Route(crlf),
        "/huge.xml": Route(huge),
        "/atom.xml": Route(atom, headers={"Content-Type": "application/atom+xml"}),
        # These must fail, each with its error recorded.
        "/laughs.xml": Route(laughs, headers={"Content-Type": "application/xml"}),
        "/gzip-bomb.xml": Route(bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/xml"}),
        "/raw-gzip-bomb.xml": Route(bomb, headers={"Content-Type": "application/xml"}),
        "/loop.xml": Route(status=302, headers={"Location": "/loop-2.xml"}),
        "/loop-2.xml": Route(status=301, headers={"Location": "/loop.xml"}),
    }


FAILING = {"/laughs.xml", "/gzip-bomb.xml", "/raw-gzip-bomb.xml", "/loop.xml"}


@contextmanager
def live_app(settings: Settings, engine: Engine, ruleset: Ruleset) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    app = create_app(settings.model_copy(update={"base_url": base}), engine, ruleset)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def tracker() -> Iterator[FeedServer]:
    """What the hostile content points at: any connection here is a failure of the test."""
    server = FeedServer()
    server.start()
    yield server
    server.stop()


def test_hostile_feeds_are_survived_stored_harmlessly_and_never_run(
    engine: Engine, database_url: str, ruleset: Ruleset, feed_server: FeedServer, tracker: FeedServer, tmp_path: Path
) -> None:
    t = tracker.base
    served = {path: feed_server.add(path, route) for path, route in hostile_feeds(t).items()}
    feeds = {path: url for path, url in served.items() if path != "/loop-2.xml"}  # the loop's second hop
    with session_scope(engine) as s:
        for url in feeds.values():
            store.add_feed(s, url, None, datetime.now(UTC) - timedelta(minutes=1))

    # 1. The poll, as its own process: it must survive every feed and record each failure.
    env = {
        **os.environ,
        "DIGEST_DATABASE_URL": database_url,
        "DIGEST_TOPICS_FILE": str(TOPICS),
        "DIGEST_FEEDS__ALLOW_PRIVATE_NETWORKS": "true",  # the hostile server is on loopback
        # Feeds of fewer than 30 are parsed in the polling process, between fetches: on a busy machine
        # a megabyte feed can hold the others past a short time limit. Time limits are not tested here.
        "DIGEST_FEEDS__TIMEOUT_SECONDS": "90",
    }
    started = time.monotonic()
    polled = subprocess.run(
        [sys.executable, "-m", "digest", "poll"], env=env, capture_output=True, text=True, timeout=180, cwd=ROOT
    )
    poll_seconds = time.monotonic() - started
    assert polled.returncode == 0, polled.stderr[-2000:]
    assert "Traceback" not in polled.stderr
    with session_scope(engine) as s:
        health = {feed.url: feed for feed, _n in store.list_feeds(s)}
        stories = story_store.list_stories(s, limit=100)
        titles = [story.title for story in stories]
        links = [story.link for story in stories]
    for path, url in feeds.items():
        feed = health[url]
        if path in FAILING:
            assert feed.status == "error" and feed.last_error, path
        else:
            assert feed.status == "ok", (path, feed.last_error)
    assert (health[feeds["/laughs.xml"]].last_error or "").startswith("an XML bomb")
    assert (health[feeds["/gzip-bomb.xml"]].last_error or "").startswith("response too large")
    assert (health[feeds["/raw-gzip-bomb.xml"]].last_error or "").startswith("the feed decompresses to more than")
    assert "redirect loop" in (health[feeds["/loop.xml"]].last_error or "")
    assert len(titles) == 10
    assert all("\r" not in title and "\n" not in title and len(title) <= 300 for title in titles)
    assert all(link is None or link.startswith("https://hostile.example/") for link in links)
    assert all(len(f.title or "") <= 2000 and "\n" not in (f.title or "") for f in health.values())

    # 2. The reader's digest, sent to a file outbox and rendered to an HTML file.
    outbox = tmp_path / "outbox"
    settings = Settings(
        database_url=database_url,
        mail_url=f"file://{outbox}",
        secret_key="hostile-test-key",
        base_url="https://digest.example",
        feeds=FeedSettings(allow_private_networks=True),
        digest=DigestSettings(max_stories_per_topic=50),
    )
    subscribe(engine, settings, READER, ["deepfakes"], "daily", datetime.now(UTC) - timedelta(days=1), ruleset)
    with session_scope(engine) as s:
        editors.set_editor(s, "alice", PASSWORD, datetime.now(UTC))
    signer = make_signer(settings, engine)
    preview = preview_message(engine, settings, ruleset, signer, READER, datetime.now(UTC))
    assert preview is not None
    html_part = preview.message.get_body(("html",))
    assert html_part is not None
    digest_file = tmp_path / "digest.html"
    digest_file.write_text(str(html_part.get_content()), encoding="utf-8")
    # Each event is one item of the digest, its other reports under "Also reported by" (the hostile
    # feeds all report one bill, so several of them are one event); the lead headline appears again in
    # the hidden preheader (and the page's title, in the head, when the lead is the only item).
    with session_scope(engine) as s:
        events = {g.membership.event for g in event_store.grouped_since(s, datetime(1970, 1, 1, tzinfo=UTC))}
    body = digest_file.read_text().split("<body", 1)[1]
    assert body.count(TOPIC_WORDS) == len(events) + 1 and 1 <= len(events) <= 10
    plan_edition(engine, settings, ruleset, datetime.now(UTC))
    assert deliver_queued(engine, settings, ruleset, signer).sent == 1
    _assert_headers_are_clean(outbox)

    # 3. Editors' pages and the digest in Chromium: no script runs, nothing reaches the tracker.
    connections_before_browser = tracker.connections
    with live_app(settings, engine, ruleset) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 4000})
        requests: list[str] = []
        console: list[str] = []
        dialogs: list[str] = []
        errors: list[str] = []
        context.on("request", lambda request: requests.append(request.url))
        page = context.new_page()
        page.on("console", lambda message: console.append(f"{message.type}: {message.text} @ {message.location}"))
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.on("pageerror", lambda error: errors.append(str(error)))

        page.goto(base + "/editor/login")
        page.get_by_label("Name").fill("alice")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(base + "/editor/feeds")
        visited = [
            base + "/editor/feeds",
            base + "/editor/stories",
            base + "/editor/stories?topic=deepfakes",
            base + f"/editor/preview?email={READER}",
            digest_file.as_uri(),
        ]
        flags = {}
        for url in visited:
            page.goto(url, wait_until="networkidle")
            page.mouse.move(200, 300)  # hover handlers
            page.keyboard.press("Tab")  # focus handlers
            page.wait_for_timeout(200)
            flags[url] = [_pwned(frame) for frame in page.frames]
        page.goto(base + "/editor/stories", wait_until="networkidle")
        assert page.get_by_role("heading", name=re.compile(f"{TOPIC_WORDS} \\d+")).count() == 10  # shown, as text
        browser.close()

    assert {url: f for url, f in flags.items() if any(f)} == {}
    assert dialogs == [] and errors == []
    assert [line for line in console if "favicon" not in line] == []
    assert [url for url in requests if url.startswith(t)] == []
    assert tracker.connections == connections_before_browser == 0
    print(
        f"\nhostile feeds: {len(feeds)} feeds ({len(FAILING)} failing) polled in {poll_seconds:.1f} s by a process "
        f"that survived; {len(titles)} stories stored; {len(visited)} pages in Chromium, {len(requests)} requests, "
        f"0 scripts run, 0 connections to the tracker"
    )


def _pwned(frame: Frame) -> bool:
    try:
        return bool(frame.evaluate("window.__pwned"))
    except PlaywrightError:  # a sandboxed frame without scripts has no context to evaluate in: nothing ran there
        return False


def _assert_headers_are_clean(outbox: Path) -> None:
    [path] = list(outbox.glob("*.eml"))
    raw = path.read_bytes()
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0].decode("ascii")
    names = [line.split(":", 1)[0].lower() for line in re.split(r"\r?\n", head) if line and not line[0].isspace()]
    assert "bcc" not in names and "x-injected" not in names
    assert "X-Injected" not in head and "victim@example.org" not in head
    [message] = messages(outbox)
    for name, value in message.items():
        assert "\r" not in str(value) and "\n" not in str(value), name

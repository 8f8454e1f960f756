"""The shared corpus: real captured feeds and feedparser's own ill-formed and sanitiser cases.

Each file is served over real HTTP on loopback and polled like any feed. Every one must poll without
crashing; every real feed with entries must store all of them with a title and a link; no sanitiser
case may let active content through.
"""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime
from pathlib import Path

import feedparser
from sqlalchemy import Engine, select
from sqlalchemy.orm import selectinload

from digest.config import Settings
from digest.db.engine import session_scope
from digest.feeds import store
from digest.feeds.models import Feed, Story, StorySource
from digest.feeds.refresh import poll_feeds
from digest.tagging.rules import load_rules
from tests.conftest import TOPICS, shared_data
from tests.httpserver import FeedServer, Route
from tests.inert import active_parts

HEADER = re.compile(rb"^Header:\s*([\w-]+):\s*(.+?)\s*$", re.M)

RULES = load_rules(TOPICS)


def serve_all(feed_server: FeedServer, folder: Path) -> dict[str, Path]:
    urls = {}
    for path in sorted(folder.iterdir()):
        if not path.name.endswith((".xml", ".xml.gz")):
            continue
        body = path.read_bytes()
        # feedparser's HTTP cases carry the headers they must be served with in a comment.
        headers = {m.group(1).decode(): m.group(2).decode() for m in HEADER.finditer(body[:2000])}
        headers.setdefault("Content-Type", "application/xml")
        urls[feed_server.add("/" + path.name, Route(body, headers=headers))] = path
    return urls


def poll_everything(engine: Engine, settings: Settings, urls: dict[str, Path]) -> dict[str, str]:
    with session_scope(engine) as s:
        for url in urls:
            store.add_feed(s, url, None, datetime.now(UTC))
    report = poll_feeds(engine, settings.feeds, "digest/test", RULES)
    assert len(report.outcomes) == len(urls)  # every feed polled, none crashed the poll
    return {o.url: o.status for o in report.outcomes}


def expected_entries(body: bytes) -> int:
    """Distinct entries with a title or a link, counted by feedparser alone."""
    parsed = feedparser.parse(body)
    keys = {e.get("id") or e.get("link") or e.get("title") for e in parsed.entries if e.get("title") or e.get("link")}
    return len(keys)


def test_every_real_feed_stores_all_its_entries(engine: Engine, settings: Settings, feed_server: FeedServer) -> None:
    urls = serve_all(feed_server, shared_data("real-feeds"))
    statuses = poll_everything(engine, settings, urls)
    with session_scope(engine) as s:
        feeds = {f.url: f for f in s.scalars(select(Feed))}
        for url, path in urls.items():
            body = path.read_bytes()
            if path.suffix == ".gz":
                body = gzip.decompress(body)
            expected = expected_entries(body)
            if expected == 0:
                continue
            assert statuses[url] == "ok", (path.name, feeds[url].last_error)
            stored = s.scalars(
                select(Story).join(StorySource).where(StorySource.feed_id == feeds[url].id).distinct()
            ).all()
            assert len(stored) == expected, path.name
            for story in stored:
                assert story.title.strip(), path.name
                assert story.link and story.link.startswith(("http://", "https://")), (path.name, story.title)


def test_feedparser_tricky_cases_poll_and_stay_inert(
    engine: Engine, settings: Settings, feed_server: FeedServer
) -> None:
    urls = serve_all(feed_server, shared_data("feedparser-tricky"))
    statuses = poll_everything(engine, settings, urls)
    assert set(statuses.values()) <= {"ok", "error"}
    with session_scope(engine) as s:
        for story in s.scalars(select(Story).options(selectinload(Story.sources))):
            for fragment in (story.summary_html, story.content_html):
                assert active_parts(fragment) == [], (story.title, fragment)
            for text in (story.title, story.summary_text):
                assert "<script" not in text.lower() and "\n" not in text
            assert story.link is None or story.link.startswith(("http://", "https://"))
        errors = {f.url: f.last_error for f in s.scalars(select(Feed)) if f.status == "error"}
    assert all(errors.values()), "every failed feed says why"
    bomb = next(url for url in urls if "billion-laughs" in url)
    assert statuses[bomb] in ("ok", "error")
    with session_scope(engine) as s:
        titles = [st.title for st in s.scalars(select(Story))]
    assert not any("lol" * 50 in t for t in titles), "entity expansion stayed bounded"

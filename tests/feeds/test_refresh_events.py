"""A poll groups its new stories into events: three outlets' reports of one ruling become one event."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

from sqlalchemy import Engine

from digest.config import Settings
from digest.db.engine import session_scope
from digest.events.group import events_since, regroup_window
from digest.events.store import grouped_since
from digest.feeds import store
from digest.feeds.refresh import MIN_FEEDS_FOR_WORKERS, poll_feeds
from digest.tagging.rules import load_rules
from tests.conftest import TOPICS
from tests.httpserver import FeedServer, Route

RULES = load_rules(TOPICS)
NOW = datetime.now(UTC)


def rss(outlet: str, *items: tuple[str, str, str]) -> Route:
    """(slug, title, summary) items published an hour ago."""
    when = format_datetime(NOW - timedelta(hours=1))
    body = "".join(
        f"<item><title>{escape(title)}</title><link>https://{outlet}.example/{slug}</link>"
        f"<description>{escape(summary)}</description><pubDate>{when}</pubDate></item>"
        for slug, title, summary in items
    )
    document = f'<?xml version="1.0"?><rss version="2.0"><channel><title>{outlet}</title>{body}</channel></rss>'
    return Route(document.encode(), headers={"Content-Type": "application/rss+xml"})


RULING = (
    "Clorox sues Cognizant for $380 million over help desk social engineering",
    "The lawsuit says Cognizant staff reset passwords for a Scattered Spider caller who posed as a Clorox employee.",
)
OTHER = (
    "Ascot Regional Hospital discloses data breach affecting 210,000 patients",
    "An intruder copied names, Social Security numbers and diagnoses from the hospital's network.",
)


def test_one_poll_groups_reports_from_three_outlets_and_a_later_report_joins_them(
    engine: Engine, settings: Settings, feed_server: FeedServer
) -> None:
    with session_scope(engine) as s:
        for outlet in ("wire", "desk"):
            store.add_feed(s, feed_server.url(f"/{outlet}.xml"), None, NOW - timedelta(minutes=1))
    feed_server.add("/wire.xml", rss("wire", ("a", *RULING), ("b", *OTHER)))
    feed_server.add(
        "/desk.xml",
        rss("desk", ("c", "Clorox files $380M lawsuit against Cognizant after 2023 hack", RULING[1])),
    )
    report = poll_feeds(engine, settings.feeds, "digest/test", RULES)
    assert report.new_stories == 3 and report.grouped == 3
    with session_scope(engine) as s:
        events = events_since(s, NOW - timedelta(days=2))
    sizes = sorted(len(e.stories) for e in events)
    assert sizes == [1, 2]  # the two reports of the lawsuit are one event, the hospital breach its own

    # A third outlet reports it later: its story joins the stored event in the poll that brings it.
    with session_scope(engine) as s:
        store.add_feed(s, feed_server.url("/law.xml"), None, NOW - timedelta(minutes=1))
    late = ("d", "Clorox blames Cognizant help desk for 2023 breach in $380M suit", "")
    feed_server.add("/law.xml", rss("law", late))
    later = poll_feeds(engine, settings.feeds, "digest/test", RULES)
    assert later.grouped == 1
    with session_scope(engine) as s:
        events = events_since(s, NOW - timedelta(days=2))
    clorox = next(e for e in events if len(e.stories) > 1)
    assert len(clorox.stories) == 3 and len(events) == 2


def test_a_poll_through_parser_workers_groups_as_regrouping_the_stored_stories_does(
    engine: Engine, settings: Settings, feed_server: FeedServer
) -> None:
    # Enough feeds for the poll to parse in worker processes; the poll groups the stories as it
    # stored them, without reading them back, and must come to what grouping them from the database
    # does (undated stories included: they are dated when first seen).
    with session_scope(engine) as s:
        for n in range(MIN_FEEDS_FOR_WORKERS):
            store.add_feed(s, feed_server.url(f"/f{n}.xml"), None, NOW - timedelta(minutes=1))
    for n in range(MIN_FEEDS_FOR_WORKERS):
        items = [(f"r{n}", *RULING) if n % 3 else (f"o{n}", *OTHER), (f"x{n}", f"Outlet {n} diary note {n}", "")]
        route = rss(f"o{n}", *items)
        if n == 7:  # undated
            route = Route(
                route.body.replace(b"<pubDate>", b"<!--").replace(b"</pubDate>", b"-->"), headers=route.headers
            )
        feed_server.add(f"/f{n}.xml", route)
    report = poll_feeds(engine, replace(settings.feeds, parse_workers=2), "digest/test", RULES)
    assert report.new_stories == report.grouped == 2 * MIN_FEEDS_FOR_WORKERS
    with session_scope(engine) as s:
        polled = {story.id: story.membership for story in grouped_since(s, NOW - timedelta(days=30))}
        regroup_window(s, NOW + timedelta(minutes=5))
    with session_scope(engine) as s:
        regrouped = {story.id: story.membership for story in grouped_since(s, NOW - timedelta(days=30))}
    assert polled == regrouped
    assert len({m.event for m in polled.values()}) < len(polled)  # the same ruling from many outlets: one event

"""A whole poll over real HTTP into a real database: scheduling, errors, backoff, nothing lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from digest.config import FeedSettings, Settings
from digest.db.engine import session_scope
from digest.feeds import store, story_store
from digest.feeds.models import Feed
from digest.feeds.refresh import next_poll_time, poll_feeds
from digest.tagging.rules import load_rules
from tests.conftest import TOPICS
from tests.httpserver import FeedServer, Route

SAMPLES = Path(__file__).resolve().parents[2] / "config" / "sample-feeds"
UA = "digest/test"

RULES = load_rules(TOPICS)


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def add(engine: Engine, *urls: str) -> None:
    with session_scope(engine) as s:
        for url in urls:
            store.add_feed(s, url, None, datetime.now(UTC) - timedelta(minutes=1))


def feed(engine: Engine, url: str) -> Feed:
    with session_scope(engine) as s:
        return store.get_feed(s, url)


def stories(engine: Engine) -> int:
    with session_scope(engine) as s:
        return story_store.count_stories(s)


def test_next_poll_backs_off_exponentially_up_to_the_cap() -> None:
    settings = FeedSettings(max_backoff_minutes=240)
    now = datetime(2026, 11, 24, tzinfo=UTC)
    delays = [next_poll_time(now, 30, error_count=n, settings=settings) - now for n in range(6)]
    assert [d.total_seconds() / 60 for d in delays] == [30, 30, 60, 120, 240, 240]
    retry = next_poll_time(now, 30, error_count=1, retry_after=timedelta(hours=3), settings=settings) - now
    assert retry == timedelta(hours=3)


def test_poll_stores_stories_then_a_304_costs_nothing(
    engine: Engine, settings: Settings, feed_server: FeedServer
) -> None:
    def answer(request):  # type: ignore[no-untyped-def]
        if request.headers.get("if-none-match") == '"v1"':
            return Route(status=304)
        return Route(sample("cyberlaw-wire.xml"), headers={"Content-Type": "application/rss+xml", "ETag": '"v1"'})

    url = feed_server.add("/wire.xml", answer)
    add(engine, url)
    first = poll_feeds(engine, settings.feeds, UA, RULES)
    assert (first.count("ok"), first.new_stories) == (1, 6)
    stored = feed(engine, url)
    assert (stored.status, stored.title, stored.etag, stored.error_count) == ("ok", "Cyber Law Wire", '"v1"', 0)
    assert stored.next_poll_at > datetime.now(UTC) + timedelta(minutes=59)

    second = poll_feeds(engine, settings.feeds, UA, RULES, all_feeds=True)
    assert second.count("not-modified") == 1 and second.new_stories == 0
    assert stories(engine) == 6


def test_only_due_feeds_are_polled_unless_all(engine: Engine, settings: Settings, feed_server: FeedServer) -> None:
    url = feed_server.add("/wire.xml", Route(sample("cyberlaw-wire.xml")))
    add(engine, url)
    poll_feeds(engine, settings.feeds, UA, RULES)
    assert poll_feeds(engine, settings.feeds, UA, RULES).outcomes == []
    assert len(poll_feeds(engine, settings.feeds, UA, RULES, all_feeds=True).outcomes) == 1


def test_a_broken_feed_records_its_error_backs_off_and_keeps_its_stories(
    engine: Engine, settings: Settings, feed_server: FeedServer
) -> None:
    answers = [
        Route(sample("policy-desk.xml")),
        Route(b"<html><body>Maintenance</body></html>", 200, {"Content-Type": "text/html"}),
        Route(b"oops", 500),
    ]
    url = feed_server.add("/desk.xml", lambda request: answers.pop(0) if len(answers) > 1 else answers[0])
    good = feed_server.add("/wire.xml", Route(sample("cyberlaw-wire.xml")))
    add(engine, url, good)
    poll_feeds(engine, settings.feeds, UA, RULES)
    before = stories(engine)

    broken = poll_feeds(engine, settings.feeds, UA, RULES, all_feeds=True)
    statuses = {o.url: o.status for o in broken.outcomes}
    assert statuses == {url: "error", good: "ok"}
    desk = feed(engine, url)
    assert desk.status == "error" and desk.error_count == 1
    assert desk.last_error is not None and desk.last_error.startswith("not a feed")
    first_delay = desk.next_poll_at - desk.last_polled_at  # type: ignore[operator]

    poll_feeds(engine, settings.feeds, UA, RULES, all_feeds=True)
    desk = feed(engine, url)
    assert (desk.error_count, desk.last_error) == (2, "HTTP 500 Internal Server Error")
    assert desk.next_poll_at - desk.last_polled_at > first_delay * 1.9  # type: ignore[operator]
    assert stories(engine) == before


def test_gone_feeds_are_disabled_and_no_longer_polled(
    engine: Engine, settings: Settings, feed_server: FeedServer
) -> None:
    url = feed_server.add("/gone.xml", Route(b"", 410))
    add(engine, url)
    assert poll_feeds(engine, settings.feeds, UA, RULES).count("gone") == 1
    assert feed(engine, url).status == "disabled"
    assert poll_feeds(engine, settings.feeds, UA, RULES, all_feeds=True).outcomes == []


def test_permanent_redirects_update_the_stored_address(
    engine: Engine, settings: Settings, feed_server: FeedServer
) -> None:
    new = feed_server.add("/new.xml", Route(sample("court-watch.xml")))
    old = feed_server.add("/old.xml", Route(status=301, headers={"Location": new}))
    add(engine, old)
    poll_feeds(engine, settings.feeds, UA, RULES)
    assert feed(engine, new).status == "ok"


def test_retry_after_delays_the_next_poll(engine: Engine, settings: Settings, feed_server: FeedServer) -> None:
    url = feed_server.add("/busy.xml", Route(b"", 503, {"Retry-After": "7200"}))
    add(engine, url)
    poll_feeds(engine, settings.feeds, UA, RULES)
    busy = feed(engine, url)
    assert busy.next_poll_at - busy.last_polled_at >= timedelta(hours=2)  # type: ignore[operator]


def test_a_story_in_two_feeds_is_stored_once(engine: Engine, settings: Settings, feed_server: FeedServer) -> None:
    add(
        engine,
        feed_server.add("/wire.xml", Route(sample("cyberlaw-wire.xml"))),
        feed_server.add("/desk.xml", Route(sample("policy-desk.xml"))),
    )
    report = poll_feeds(engine, settings.feeds, UA, RULES)
    assert report.new_stories == 9 and sum(o.merged for o in report.outcomes) == 1
    assert stories(engine) == 9


def test_every_kind_of_bad_feed_is_recorded_while_the_others_are_stored(
    engine: Engine, settings: Settings, feed_server: FeedServer
) -> None:
    def endless():  # type: ignore[no-untyped-def]
        while True:
            yield b"<rss>" * 4096

    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
        b"<rss><channel><title>&d;&d;&d;&d;&d;&d;&d;&d;</title></channel></rss>"
    )
    bad = {
        "/slow.xml": Route(sample("court-watch.xml"), delay=3),
        "/html.xml": Route(b"<!doctype html><title>Home</title><p>Welcome", headers={"Content-Type": "text/html"}),
        "/garbage.xml": Route(bytes(range(256)) * 10),
        "/huge.xml": Route(stream=endless),
        "/bomb.xml": Route(bomb, headers={"Content-Type": "application/xml"}),
        "/loop.xml": Route(status=302, headers={"Location": feed_server.url("/loop.xml")}),
        "/dates.xml": Route(
            b'<rss version="2.0"><channel><title>D</title><item><title>Odd date</title>'
            b"<link>https://d.example/1</link><pubDate>32 Smarch 20260 99:99</pubDate></item></channel></rss>"
        ),
    }
    urls = [feed_server.add(path, route) for path, route in bad.items()]
    good = feed_server.add("/wire.xml", Route(sample("cyberlaw-wire.xml")))
    add(engine, *urls, good)
    settings = Settings(
        database_url=settings.database_url,
        feeds=FeedSettings(timeout_seconds=1, max_bytes=200_000, max_redirects=4, allow_private_networks=True),
    )
    report = poll_feeds(engine, settings.feeds, UA, RULES)
    statuses = {o.url: o.status for o in report.outcomes}
    assert statuses[good] == "ok" and statuses[feed_server.url("/dates.xml")] == "ok"
    for path in ("/slow.xml", "/html.xml", "/garbage.xml", "/huge.xml", "/loop.xml"):
        assert statuses[feed_server.url(path)] == "error", path
        assert feed(engine, feed_server.url(path)).last_error
    assert stories(engine) == 7  # the six good ones and the oddly dated one
    with session_scope(engine) as s:
        (odd,) = [st for st in story_store.list_stories(s, limit=100) if st.title == "Odd date"]
        assert odd.published_guessed and abs(odd.published_at - odd.first_seen_at) < timedelta(seconds=1)

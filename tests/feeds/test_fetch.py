"""Fetching over real HTTP on loopback: validators, redirects, limits, timeouts, polite headers."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from digest.config import FeedSettings
from digest.feeds.fetch import FetchRequest, FetchResult, fetch_feeds, parse_retry_after
from tests.httpserver import FeedServer, Route

# The test server is on loopback: the private-address guard is off here (tests/feeds/test_guard.py has it on).
SETTINGS = FeedSettings(
    timeout_seconds=2, connect_timeout_seconds=1, max_bytes=64 * 1024, max_redirects=3, allow_private_networks=True
)
UA = "digest/test (+http://127.0.0.1)"
FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'


def fetch(*requests: FetchRequest, settings: FeedSettings = SETTINGS) -> list[FetchResult]:
    async def run() -> list[FetchResult]:
        return [r async for r in fetch_feeds(list(requests), settings, UA)]

    return asyncio.run(run())


def one(url: str, **kwargs: str) -> FetchResult:
    return fetch(FetchRequest(1, url, **kwargs))[0]


def test_body_validators_and_polite_headers(feed_server: FeedServer) -> None:
    url = feed_server.add(
        "/feed", Route(FEED, headers={"Content-Type": "application/rss+xml", "ETag": '"v1"', "Last-Modified": "x"})
    )
    result = one(url)
    assert (result.status_code, result.body, result.etag, result.last_modified) == (200, FEED, '"v1"', "x")
    seen = feed_server.hits("/feed")[0]
    assert seen.headers["user-agent"] == UA
    assert "application/rss+xml" in seen.headers["accept"]


def test_conditional_get_sends_stored_validators_and_understands_304(feed_server: FeedServer) -> None:
    url = feed_server.add("/feed", Route(status=304))
    result = one(url, etag='"v1"', last_modified="Mon, 23 Nov 2026 10:00:00 GMT")
    assert result.not_modified and result.body is None and result.error is None
    headers = feed_server.hits("/feed")[0].headers
    assert headers["if-none-match"] == '"v1"'
    assert headers["if-modified-since"] == "Mon, 23 Nov 2026 10:00:00 GMT"


@pytest.mark.parametrize(("code", "moves"), [(301, True), (308, True), (302, False), (307, False)])
def test_only_permanent_redirects_move_the_feed(feed_server: FeedServer, code: int, moves: bool) -> None:
    new = feed_server.add("/new", Route(FEED))
    old = feed_server.add("/old", Route(status=code, headers={"Location": new}))
    result = one(old)
    assert result.body == FEED
    assert result.moved_to == (new if moves else None)


def test_a_temporary_hop_in_the_chain_keeps_the_old_address(feed_server: FeedServer) -> None:
    final = feed_server.add("/final", Route(FEED))
    middle = feed_server.add("/middle", Route(status=302, headers={"Location": final}))
    start = feed_server.add("/start", Route(status=301, headers={"Location": middle}))
    assert one(start).moved_to is None


def test_redirect_loops_are_an_error(feed_server: FeedServer) -> None:
    a = feed_server.url("/a")
    b = feed_server.add("/b", Route(status=302, headers={"Location": a}))
    feed_server.add("/a", Route(status=302, headers={"Location": b}))
    assert "redirect loop" in (one(a).error or "")


def test_gone_and_http_errors(feed_server: FeedServer) -> None:
    assert one(feed_server.add("/gone", Route(b"", 410))).gone
    assert one(feed_server.add("/missing", Route(b"no", 404))).error == "HTTP 404 Not Found"


def test_retry_after_is_read_on_429_and_503(feed_server: FeedServer) -> None:
    result = one(feed_server.add("/busy", Route(b"", 429, {"Retry-After": "3600"})))
    assert result.error == "HTTP 429 Too Many Requests"
    assert result.retry_after == timedelta(hours=1)
    later = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert parse_retry_after("Tue, 24 Nov 2026 12:30:00 GMT", now=later) == timedelta(minutes=30)
    assert parse_retry_after("soon") is None


def test_declared_oversize_bodies_are_refused_unread(feed_server: FeedServer) -> None:
    url = feed_server.add("/huge", Route(b"x" * (SETTINGS.max_bytes + 1)))
    assert "response too large" in (one(url).error or "")


def test_endless_bodies_are_cut_off_at_the_limit(feed_server: FeedServer) -> None:
    def endless() -> Iterator[bytes]:
        while True:  # a "5 GB" body: it never ends, the fetcher has to stop reading
            yield b"<item>" * 1000

    url = feed_server.add("/endless", Route(stream=endless))
    assert "more than 65536 bytes" in (one(url).error or "")


def test_compressed_bombs_hit_the_same_limit(feed_server: FeedServer) -> None:
    bomb = gzip.compress(b" " * (SETTINGS.max_bytes * 20))
    url = feed_server.add("/bomb", Route(bomb, headers={"Content-Encoding": "gzip"}))
    assert "response too large" in (one(url).error or "")


def test_slow_servers_time_out(feed_server: FeedServer) -> None:
    url = feed_server.add("/slow", Route(FEED, delay=3))
    settings = FeedSettings(timeout_seconds=0.5, connect_timeout_seconds=0.5, allow_private_networks=True)
    result = fetch(FetchRequest(1, url), settings=settings)[0]
    assert result.error == "timed out after 0.5 s"


def test_unreachable_hosts_are_an_error() -> None:
    assert "cannot connect" in (one("http://127.0.0.1:9/feed").error or "")


def test_many_feeds_are_fetched_concurrently_within_the_bound(feed_server: FeedServer) -> None:
    for i in range(8):
        feed_server.add(f"/f{i}", Route(FEED, delay=0.3))
    settings = FeedSettings(concurrency=4, timeout_seconds=5, allow_private_networks=True)
    started = datetime.now(UTC)
    results = fetch(*[FetchRequest(i, feed_server.url(f"/f{i}")) for i in range(8)], settings=settings)
    elapsed = datetime.now(UTC) - started
    assert sorted(r.request.feed_id for r in results) == list(range(8))
    assert all(r.body == FEED for r in results)
    # 8 feeds of 0.3 s each, 4 at a time: two rounds, well under the 2.4 s one at a time would take.
    assert elapsed < timedelta(seconds=1.8)

"""Finding a site's feeds from its page, fetched over real HTTP with the poller's limits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.config import FeedSettings
from digest.feeds.discover import DiscoveryError, FoundFeed, discover_feeds, find_feed_links
from digest.feeds.normalise import feed_key
from tests.httpserver import FeedServer, Route

SETTINGS = FeedSettings(timeout_seconds=3, connect_timeout_seconds=1, max_bytes=64 * 1024, allow_private_networks=True)
PAGE = b"""<!doctype html><html><head><title>Policy Desk</title>
<link rel="stylesheet" href="/site.css">
<link rel="alternate" type="application/rss+xml" title="All stories" href="/feed.xml">
<LINK REL="Alternate" TYPE="application/atom+xml" title="Courts &amp; cases" href="https://policy.example/courts.atom?utm_source=site">
<link rel="alternate" type="text/html" hreflang="fr" href="/fr/">
<link rel="alternate" type="application/rss+xml" title="Duplicate" href="/feed.xml#top">
</head><body><a href="/other.xml" rel="alternate" type="application/rss+xml">not a link tag</a></body></html>"""


def test_a_sites_page_names_its_feeds(feed_server: FeedServer) -> None:
    site = feed_server.add("/", Route(PAGE, headers={"Content-Type": "text/html; charset=utf-8"}))
    assert discover_feeds(site, SETTINGS, "digest-test") == [
        FoundFeed(f"{site}feed.xml", "All stories", "RSS"),
        FoundFeed("https://policy.example/courts.atom", "Courts & cases", "Atom"),
    ]


def test_a_feed_address_is_its_own_answer(feed_server: FeedServer) -> None:
    url = feed_server.add("/rss", Route(b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>'))
    assert discover_feeds(url, SETTINGS, "digest-test") == [FoundFeed(url, None, "feed")]


def test_the_fetch_limits_apply_and_failures_say_why(feed_server: FeedServer) -> None:
    huge = feed_server.add("/huge", Route(b"<html>" + b"x" * (128 * 1024), headers={"Content-Type": "text/html"}))
    with pytest.raises(DiscoveryError, match="response too large"):
        discover_feeds(huge, SETTINGS, "digest-test")
    missing = feed_server.url("/nothing-here")
    with pytest.raises(DiscoveryError, match="HTTP 404"):
        discover_feeds(missing, SETTINGS, "digest-test")


def test_relative_links_follow_the_pages_base() -> None:
    page = '<head><base href="/news/"><link rel="alternate" type="application/atom+xml" href="feed.atom"></head>'
    assert find_feed_links(page, "https://site.example/index.html") == [
        FoundFeed("https://site.example/news/feed.atom", None, "Atom")
    ]


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("https://Wire.Example/rss", "https://wire.example/rss"),
        ("https://wire.example:443/rss/", "https://wire.example/rss"),
        ("http://wire.example/rss", "https://wire.example/rss"),
        ("https://wire.example/rss?utm_source=x&id=3", "https://wire.example/rss?id=3"),
        ("https://wire.example/rss#latest", "https://wire.example/rss"),
    ],
)
def test_spellings_of_one_feed_share_a_key(one: str, other: str) -> None:
    assert feed_key(one) == feed_key(other) is not None


def test_different_feeds_have_different_keys() -> None:
    assert feed_key("https://wire.example/rss?id=3") != feed_key("https://wire.example/rss?id=4")
    assert feed_key("https://wire.example:8443/rss") != feed_key("https://wire.example/rss")
    assert feed_key("javascript:alert(1)") is None


@given(
    st.from_regex(r"[a-z]{1,10}\.example", fullmatch=True),
    st.from_regex(r"(/[a-z0-9]{1,8}){0,3}", fullmatch=True),
    st.booleans(),
    st.booleans(),
)
def test_the_key_ignores_case_port_slash_and_tracking(host: str, path: str, upper: bool, extras: bool) -> None:
    plain = f"https://{host}{path}"
    spelled = f"https://{host.upper() if upper else host}{':443' if extras else ''}{path}/"
    if extras:
        spelled += "?utm_campaign=mail&fbclid=abc"
    assert feed_key(spelled) == feed_key(plain)

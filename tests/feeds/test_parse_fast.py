"""The fast path of parsing (feedparser-rs for well-formed UTF-8 feeds) stores what feedparser would.

Every captured real feed and every one of feedparser's own ill-formed and sanitiser cases is parsed
both ways, and the stories must come out the same; generated feeds full of the characters that
escaping gets wrong must too. The one difference allowed is the Atom rule feedparser leaves out: an
entry without an author takes the feed's (RFC 4287, 4.2.1).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.feeds.parse import ParsedFeed, ParseError, _fast_candidate, _read_fast, feedparser_only, parse_feed
from tests.conftest import shared_data

NOW = datetime(2026, 12, 2, tzinfo=UTC)
URL = "https://feeds.example/feed.xml"


def documents() -> list[Path]:
    real = sorted(shared_data("real-feeds").glob("*.xml"))
    tricky = sorted(shared_data("feedparser-tricky").rglob("*.xml"))
    return real + tricky


def both_ways(body: bytes, content_type: str = "application/xml") -> tuple[ParsedFeed | str, ParsedFeed | str]:
    def read(fast: bool) -> ParsedFeed | str:
        try:
            return parse_feed(body, URL, content_type=content_type, now=NOW, fast=fast)
        except ParseError as exc:
            return f"ParseError: {exc}"

    return read(False), read(True)


def same_stories(slow: ParsedFeed | str, fast: ParsedFeed | str, atom: bool) -> bool:
    if isinstance(slow, str) or isinstance(fast, str) or len(slow.entries) != len(fast.entries):
        return slow == fast
    entries = [
        replace(f, author=None, content_hash=s.content_hash) if atom and s.author is None and f.author else f
        for s, f in zip(slow.entries, fast.entries, strict=True)
    ]
    return replace(fast, entries=entries) == slow


def test_every_captured_and_tricky_feed_reads_the_same_both_ways() -> None:
    fast_ones, different = 0, []
    for path in documents():
        body = path.read_bytes()
        if path.parent.name == "real-feeds":
            fast_ones += _fast_candidate(body, "application/xml") and _read_fast(body) is not None
        slow, fast = both_ways(body)
        if not same_stories(slow, fast, atom=b"http://www.w3.org/2005/Atom" in body):
            different.append(path.name)
    assert different == []
    # Half of the real feeds take the fast path, so the comparison is not of feedparser with itself.
    assert fast_ones >= 12


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (
            b'<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel><item><title>Caf\xe9</title>'
            b"</item></channel></rss>",
            "declared Latin-1",
        ),
        (b'<rss version="2.0"><channel><item><title>don\xc2\x92t</title></item></channel></rss>', "a C1 control"),
        (
            # "Â¡", the UTF-8 of "¡" read as Latin-1: feedparser decodes it again, into "¡".
            b'<rss version="2.0"><channel><item><title>T</title><description>\xc3\x82\xc2\xa1</description></item>'
            b"</channel></rss>",
            "UTF-8 read as Latin-1",
        ),
        (
            b'<!DOCTYPE rss [<!ENTITY x "y">]><rss version="2.0"><channel><item><title>&x;</title></item>'
            b"</channel></rss>",
            "an entity declaration",
        ),
        (
            b'<rss version="2.0" xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0"><channel><item>'
            b"<title>T\xc3\xa9</title><feedburner:origLink>https://a.example/</feedburner:origLink></item></channel></rss>",
            "FeedBurner's original link",
        ),
    ],
)
def test_what_only_feedparser_reads_right_goes_to_feedparser(body: bytes, why: str) -> None:
    assert not _fast_candidate(body, "application/xml"), why
    slow, fast = both_ways(body)
    assert slow == fast


def test_a_document_the_fast_parser_finds_ill_formed_is_read_by_feedparser_with_its_warning() -> None:
    body = b'<rss version="2.0"><channel><title>T</title><item><title>One</title><link>https://a.example/1</link>'
    slow, fast = both_ways(body)
    assert isinstance(fast, ParsedFeed) and fast == slow
    assert fast.warning and [e.title for e in fast.entries] == ["One"]


def test_a_server_charset_other_than_utf8_goes_to_feedparser() -> None:
    body = '<rss version="2.0"><channel><item><title>Café</title></item></channel></rss>'.encode()
    assert _fast_candidate(body, "application/rss+xml; charset=utf-8")
    assert not _fast_candidate(body, "application/rss+xml; charset=windows-1252")


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40)
QUERY = st.lists(st.tuples(st.from_regex(r"[a-z]{1,5}", fullmatch=True), TEXT), min_size=1, max_size=3)


@settings(max_examples=150, deadline=None)
@given(title=TEXT, summary=TEXT, query=QUERY, atom=st.booleans())
def test_generated_feeds_with_escapes_read_the_same_both_ways(
    title: str, summary: str, query: list[tuple[str, str]], atom: bool
) -> None:
    # Ampersands, angle brackets and quotes in headlines, summaries and link queries: the characters
    # whose escaping differs between element text and attributes.
    link = "https://news.example/story?" + "&".join(f"{k}={v}" for k, v in query)
    if atom:
        body = (
            '<feed xmlns="http://www.w3.org/2005/Atom"><title>F</title><link href="https://news.example/"/>'
            f"<entry><title>{escape(title)}</title><id>urn:x:1</id><link href={quoteattr(link)}/>"
            f"<updated>2026-11-30T10:00:00Z</updated><summary>{escape(summary)}</summary></entry></feed>"
        )
    else:
        body = (
            '<rss version="2.0"><channel><title>F</title><link>https://news.example/</link><item>'
            f"<title>{escape(title)}</title><link>{escape(link)}</link><guid>https://news.example/g/1</guid>"
            f"<pubDate>Mon, 30 Nov 2026 10:00:00 +0000</pubDate><description>{escape(summary)}</description>"
            "</item></channel></rss>"
        )
    document = body.encode()
    # The fast path reads it (unless the text happens to hold what sends a document to feedparser).
    assert _read_fast(document) is not None or feedparser_only(document)
    slow, fast = both_ways(document)
    assert same_stories(slow, fast, atom)


def test_guids_that_say_they_are_no_permalinks_keep_the_fast_path_and_their_ids() -> None:
    items = "".join(
        f"<item><title>Story {n}</title><link>https://news.example/{n}?a=1&amp;b=2</link>"
        f"<guid isPermaLink='false'>site-{n}</guid><pubDate>Mon, 30 Nov 2026 10:00:00 +0000</pubDate></item>"
        for n in range(3)
    )
    body = f'<rss version="2.0"><channel><title>F</title>{items}</channel></rss>'.encode()
    assert _read_fast(body) is not None
    slow, fast = both_ways(body)
    assert slow == fast and isinstance(fast, ParsedFeed)
    assert [e.guid for e in fast.entries] == ["site-0", "site-1", "site-2"]
    # One guid without the attribute is a permalink feedparser resolves: that feed goes to feedparser.
    mixed = body.replace(b"<guid isPermaLink='false'>site-2", b"<guid>site-2", 1)
    assert _read_fast(mixed) is None

"""OPML in and out: other readers' exports are read, ours is read back the same, duplicates are refused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from xml.dom import minidom

import listparser
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from digest.db.engine import session_scope
from digest.feeds import opml, store
from digest.feeds.models import Feed
from digest.feeds.opml import OpmlError, OpmlFeed, import_feeds, read_opml, write_opml

SAMPLES = Path(__file__).parent / "opml"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_a_miniflux_export_is_read_with_its_titles_across_categories() -> None:
    assert read_opml((SAMPLES / "miniflux.opml").read_bytes()) == [
        OpmlFeed("https://docket.example/feed.xml", "Docket Watch"),
        OpmlFeed("https://eu-policy.example/rss?lang=en", "EU Policy & Law"),
        OpmlFeed("https://wire.example/rss", "Cyber Law Wire"),
    ]


def test_an_rss2email_export_is_read_with_its_names() -> None:
    listed = read_opml((SAMPLES / "rss2email.opml").read_bytes())
    assert [f.url for f in listed] == [
        "https://policy-desk.example/feed.atom",
        "https://WIRE.example:443/rss/?utm_source=r2e",
        "ftp://files.example/feed.xml",
    ]
    assert listed[0].title == "policy-desk"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"", "the file is empty"),
        (b"<html><body>a web page</body></html>", "not an OPML subscription list: it has no <opml> element"),
        (b"<opml version='2.0'><body><outline text='x'/></body></opml>", "no feeds in it"),
        (b"\x00\xff garbage <<<", "not an OPML subscription list"),
    ],
)
def test_what_is_not_a_subscription_list_is_refused_saying_why(document: bytes, message: str) -> None:
    with pytest.raises(OpmlError, match=message):
        read_opml(document)


def _feed(url: str, title: str | None, site: str | None = None) -> Feed:
    return Feed(url=url, title=title, site_url=site, status="ok", error_count=0)


def test_our_export_is_what_miniflux_and_rss2email_import() -> None:
    document = write_opml(
        [
            _feed("https://wire.example/rss?a=1&b=2", 'Wire <&> "Law"', "https://wire.example/"),
            _feed("https://x.example/f", None),
        ],
        NOW,
    )
    # Miniflux and most readers: outlines with xmlUrl, nested in a category, read by listparser here.
    parsed = listparser.parse(document)
    assert [(f["url"], f["title"]) for f in parsed.feeds] == [
        ("https://wire.example/rss?a=1&b=2", 'Wire <&> "Law"'),
        ("https://x.example/f", "https://x.example/f"),
    ]
    # rss2email reads every <outline> element's xmlUrl and text attributes.
    outlines = [o for o in minidom.parseString(document).getElementsByTagName("outline") if o.getAttribute("xmlUrl")]
    assert [(o.getAttribute("text"), o.getAttribute("xmlUrl"), o.getAttribute("type")) for o in outlines] == [
        ('Wire <&> "Law"', "https://wire.example/rss?a=1&b=2", "rss"),
        ("https://x.example/f", "https://x.example/f", "rss"),
    ]
    assert outlines[0].getAttribute("htmlUrl") == "https://wire.example/"


_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(str.strip)
_path = st.text("abcdefghijklmnopqrstuvwxyz0123456789-._~/", min_size=1, max_size=30)


@given(st.lists(st.tuples(_path, _text), min_size=1, max_size=8, unique_by=lambda t: t[0]))
def test_every_feed_survives_a_round_trip(feeds: list[tuple[str, str]]) -> None:
    stored = [_feed(f"https://feeds.example/{path}", title) for path, title in feeds]
    read_back = read_opml(write_opml(stored, NOW))
    assert [(f.url, f.title) for f in read_back] == [(f.url, " ".join(f.title.split())) for f in stored if f.title]


def test_import_adds_new_feeds_and_names_those_already_there(engine: Engine) -> None:
    with session_scope(engine) as s:
        store.add_feed(s, "https://wire.example/rss", "Wire", NOW)
    with session_scope(engine) as s:
        report = import_feeds(s, read_opml((SAMPLES / "rss2email.opml").read_bytes()), NOW)
    assert report.added == ["https://policy-desk.example/feed.atom"]
    assert report.existing == [
        "the feed https://WIRE.example:443/rss/?utm_source=r2e is already added as https://wire.example/rss (Wire)"
    ]
    assert report.bad == ["ftp://files.example/feed.xml: not an http:// or https:// address"]
    with session_scope(engine) as s:
        assert [f.url for f, _n in store.list_feeds(s)] == [
            "https://wire.example/rss",
            "https://policy-desk.example/feed.atom",
        ]
        assert opml.read_opml(opml.write_opml([f for f, _n in store.list_feeds(s)], NOW))[1].title == "policy-desk"


def test_a_list_in_another_declared_encoding_is_read() -> None:
    document = (
        b'<?xml version="1.0" encoding="iso-8859-1"?><opml version="1.0"><body>'
        b'<outline type="rss" text="Caf\xe9 Law" xmlUrl="https://cafe.example/feed"/></body></opml>'
    )
    assert read_opml(document) == [OpmlFeed("https://cafe.example/feed", "Café Law")]

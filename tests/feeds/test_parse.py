"""Parsing: every dialect into the same clean dataclasses, and garbage into a clear ParseError."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest.feeds.parse import ParseError, parse_feed

SAMPLES = Path(__file__).resolve().parents[2] / "config" / "sample-feeds"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def rss(items: str, extra_ns: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"{extra_ns}><channel><title>T</title>'
        f"<link>https://site.example/</link>{items}</channel></rss>"
    ).encode()


def test_rss_sample_is_clean() -> None:
    feed = parse_feed((SAMPLES / "cyberlaw-wire.xml").read_bytes(), "http://127.0.0.1/cyberlaw-wire.xml", now=NOW)
    assert feed.title == "Cyber Law Wire"
    assert feed.site_url == "https://cyberlaw-wire.example/"
    assert len(feed.entries) == 6
    first = feed.entries[0]
    assert first.title == "Court jails fraudster who cloned a company director's voice"
    assert first.link == "https://cyberlaw-wire.example/2026/11/voice-clone-fraud-sentence"
    assert first.guid == "clw-2026-1101"
    assert first.author == "Mara Lind"
    assert first.published_at == datetime(2026, 11, 23, 9, 15, tzinfo=UTC)
    assert first.summary_text.startswith("The court heard the defendant used an AI voice-cloning tool")
    assert "<strong>AI voice-cloning tool</strong>" in first.summary_html
    bill = feed.entries[3]
    assert "script" not in bill.summary_html and "alert" not in bill.summary_text
    malware = feed.entries[5]
    assert "tracker.example" not in malware.summary_html and "<img" not in malware.summary_html


def test_atom_and_rdf_samples_parse_with_utc_dates() -> None:
    atom = parse_feed((SAMPLES / "policy-desk.xml").read_bytes(), "http://127.0.0.1/p.xml", now=NOW)
    assert atom.entries[0].title == "Lawmakers pass bill criminalising sexually explicit deepfakes"
    assert atom.entries[1].summary_html == (
        "<p>Services must check that users are adults using methods the regulator calls <em>highly effective</em>;"
        " fines reach 10% of global turnover.</p>"
    )
    rdf = parse_feed((SAMPLES / "court-watch.xml").read_bytes(), "http://127.0.0.1/c.xml", now=NOW)
    assert rdf.entries[0].published_at == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    assert "référé" in rdf.entries[1].summary_text  # Latin-1 decoded


@pytest.mark.parametrize(
    "date",
    [
        "",
        "<pubDate>Thu, 01 Jan 1970 00:00:00 GMT</pubDate>",
        "<pubDate>Tue, 01 Jan 2099 00:00:00 GMT</pubDate>",
        "<pubDate>next Tuesday</pubDate>",
    ],
)
def test_missing_or_absurd_dates_are_left_for_first_seen(date: str) -> None:
    feed = parse_feed(rss(f"<item><title>A</title><link>https://s.example/a</link>{date}</item>"), "http://x/", now=NOW)
    assert feed.entries[0].published_at is None


def test_titles_become_one_plain_line() -> None:
    title = "<![CDATA[<b>Breaking</b>:\r\nBcc: victim@example.org\r\n]]>"
    feed = parse_feed(rss(f"<item><title>{title}</title><link>https://s.example/a</link></item>"), "http://x/", now=NOW)
    assert feed.entries[0].title == "Breaking: Bcc: victim@example.org"


def test_gigantic_titles_are_bounded() -> None:
    feed = parse_feed(rss(f"<item><title>{'word ' * 20000}</title></item>"), "http://x/", now=NOW, title_chars=300)
    assert len(feed.entries[0].title) <= 300


def test_relative_links_resolve_against_the_feed() -> None:
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
        b'<entry><title>E</title><id>e1</id><link href="/news/1"/></entry></feed>'
    )
    feed = parse_feed(body, "https://paper.example/feeds/all.atom", now=NOW)
    assert feed.entries[0].link == "https://paper.example/news/1"


def test_empty_shells_are_skipped_and_counted() -> None:
    feed = parse_feed(
        rss("<item><title>Real</title><link>https://s.example/r</link></item><item></item>"),
        "http://x/",
        now=NOW,
    )
    assert [e.title for e in feed.entries] == ["Real"]
    assert feed.skipped_entries == 1


def test_an_entry_without_title_borrows_its_text() -> None:
    feed = parse_feed(rss("<item><description>Only a description here.</description></item>"), "http://x/", now=NOW)
    assert feed.entries[0].title == "Only a description here."


def test_a_valid_feed_without_entries_is_not_an_error() -> None:
    assert parse_feed(rss(""), "http://x/", content_type="application/rss+xml", now=NOW).entries == []


def test_gzip_bodies_without_content_encoding_are_read() -> None:
    body = gzip.compress(rss("<item><title>Zipped</title><link>https://s.example/z</link></item>"))
    assert parse_feed(body, "http://x/", now=NOW).entries[0].title == "Zipped"


def test_a_gzip_bomb_is_refused() -> None:
    with pytest.raises(ParseError, match="decompresses to more than"):
        parse_feed(gzip.compress(b"\0" * 5_000_000), "http://x/", max_bytes=1_000_000)


def test_an_entity_bomb_with_entries_is_refused_not_kept() -> None:
    entities = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY l0 "lol">{entities}]>'
        '<rss version="2.0"><channel><title>&l9;</title><item><title>&l9;</title></item></channel></rss>'
    ).encode()
    with pytest.raises(ParseError, match="an XML bomb"):
        parse_feed(bomb, "http://x/", now=NOW)


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (
            b"<!doctype html><html><head><title>Home</title></head><body><p>Hi</p></body></html>",
            "text/html",
            "not a feed",
        ),
        (b"\x00\x01\x02garbage\xff\xfe", None, "not a feed"),
        (b"", None, "not a feed"),
        (b'{"version": "not xml"}', "application/json", "not a feed"),
    ],
)
def test_non_feeds_raise_a_clear_error(body: bytes, content_type: str | None, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_feed(body, "http://x/", content_type=content_type)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400) | st.text(max_size=400).map(lambda t: rss(f"<item><title>{t}</title></item>")))
def test_any_bytes_give_a_feed_or_a_parse_error(body: bytes) -> None:
    try:
        feed = parse_feed(body, "http://x/", now=NOW)
    except ParseError as exc:
        assert str(exc)
        return
    for entry in feed.entries:
        assert entry.title and "\n" not in entry.title
        assert entry.link is None or entry.link.startswith(("http://", "https://"))

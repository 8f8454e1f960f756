"""Parsing fetched feed bytes into plain dataclasses.

feedparser reads every dialect (RSS 0.9x/1.0/2.0, Atom, RDF) and repairs broken encodings; this
module then normalises each entry: plain-text title, canonical link, UTC date (or none when the feed's
date is missing or absurd), sanitised HTML, a bounded plain-text summary. No database, no network.
"""

from __future__ import annotations

import calendar
import functools
import io
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import feedparser.mixin

from digest.feeds.normalise import canonical_link, clip, content_hash, html_to_text, sanitise_html

# Dates before this are taken as broken (epoch zero, year 1900 placeholders); so is anything more than
# a day in the future (wrong time zones, scheduled posts, typos in the year).
EARLIEST_PLAUSIBLE = datetime(1995, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=1)
GZIP_MAGIC = b"\x1f\x8b"
# Problems that do not stop a document from being read: a wrong Content-Type, a wrong declared encoding.
_SOFT_PROBLEMS = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)


# feedparser works out the base address (xml:base) of every element at its start tag by joining the
# same two addresses again and again: a fifth of its time on a feed of full-content stories. The join
# is a pure function of the two strings, so each pair's answer is remembered (bounded, and only for
# addresses of ordinary length: a hostile feed cannot make the memory hold its megabytes).
_join_base: Callable[[str, str | None], Any] | None = getattr(feedparser.mixin, "make_safe_absolute_uri", None)


@functools.lru_cache(maxsize=256)
def _remembered_join(base: str, rel: str | None) -> str:
    assert _join_base is not None
    return str(_join_base(base, rel))


def _join_base_cheaply(base: str, rel: str | None = None) -> str:
    if len(base) > 2000 or (rel is not None and len(rel) > 2000):
        assert _join_base is not None
        return str(_join_base(base, rel))
    return _remembered_join(base, rel)


# Only where feedparser still has the function by that name (a later release may move it: parsing
# then works as before, only without the remembered joins).
if _join_base is not None:
    feedparser.mixin.make_safe_absolute_uri = _join_base_cheaply


class ParseError(Exception):
    """The bytes are not a feed with entries; the message says why, for the feed's error record."""


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    title: str
    link: str | None
    guid: str | None
    author: str | None
    published_at: datetime | None
    summary_text: str
    summary_html: str
    content_html: str
    content_hash: str


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str | None
    site_url: str | None
    entries: list[ParsedEntry]
    # Set when feedparser found the document ill-formed but still recovered entries.
    warning: str | None = None
    skipped_entries: int = 0
    version: str = field(default="")


def parse_feed(
    body: bytes,
    url: str,
    *,
    content_type: str | None = None,
    now: datetime | None = None,
    summary_chars: int = 400,
    title_chars: int = 300,
    max_bytes: int = 10 * 1024 * 1024,
) -> ParsedFeed:
    """Parse one feed document; raises ParseError when it yields no entries."""
    now = now or datetime.now(UTC)
    if body.startswith(GZIP_MAGIC):
        # Some servers send gzip files without Content-Encoding; read them as what they are.
        body = _gunzip(body, max_bytes)
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    # feedparser's own sanitiser and relative-link resolution are turned off: nh3 does both, to a
    # stricter allow-list, at a fraction of the cost of feedparser's pure-Python HTML passes.
    parsed = feedparser.parse(
        io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    feed_info: Any = parsed.get("feed", {})
    entries: list[ParsedEntry] = []
    skipped = 0
    for raw in parsed.get("entries", []):
        entry = _parse_entry(raw, url, now, summary_chars, title_chars)
        if entry is None:
            skipped += 1
        else:
            entries.append(entry)

    problem = _describe_bozo(parsed) if parsed.get("bozo") else None
    if problem and "amplification" in problem:
        # expat stopped an entity-expansion bomb; feedparser's loose fallback would keep its entries.
        raise ParseError(f"an XML bomb (entities that expand without bound): {problem}")
    if not entries:
        if skipped:
            raise ParseError(f"the feed's {skipped} entries have no title, link or text")
        if not parsed.get("version"):
            raise ParseError(f"not a feed: {problem or 'the document is neither RSS nor Atom'}")
        if problem and not isinstance(parsed.get("bozo_exception"), _SOFT_PROBLEMS):
            raise ParseError(f"not a readable feed: {problem}")
    return ParsedFeed(
        title=_feed_title(feed_info, title_chars),
        site_url=_site_url(feed_info, url),
        entries=entries,
        warning=problem,
        skipped_entries=skipped,
        version=parsed.get("version", ""),
    )


def _parse_entry(raw: Any, feed_url: str, now: datetime, summary_chars: int, title_chars: int) -> ParsedEntry | None:
    link = canonical_link(raw.get("feedburner_origlink") or raw.get("link"), feed_url)
    content_values = [c.get("value", "") for c in raw.get("content", []) if c.get("value")]
    summary_raw = raw.get("summary", "") or ""
    content_raw = max(content_values, key=len) if content_values else ""
    summary_text = html_to_text(summary_raw or content_raw, summary_chars)
    title = html_to_text(raw.get("title", "") or "", title_chars)
    if not title:
        if not (link or summary_text):
            return None  # an empty shell, such as the illegally nested <item/> some feeds carry
        title = clip(summary_text, 80) if summary_text else (link or "")
    guid = raw.get("id") or None
    if guid is not None:
        guid = clip(str(guid), 2000)
    author = clip(raw.get("author", "") or "", 300) or None
    summary_html = sanitise_html(summary_raw, feed_url)
    content_html = sanitise_html(content_raw, feed_url) if content_raw and content_raw != summary_raw else ""
    return ParsedEntry(
        title=title,
        link=link,
        guid=guid,
        author=author,
        published_at=_entry_time(raw, now),
        summary_text=summary_text,
        summary_html=summary_html,
        content_html=content_html,
        content_hash=content_hash(title, summary_text, content_html),
    )


def _entry_time(raw: Any, now: datetime) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # dict.get skips FeedParserDict's deprecated updated -> published fallback mapping.
        value: time.struct_time | None = dict.get(raw, key)
        if not value:
            continue
        try:
            when = datetime.fromtimestamp(calendar.timegm(value), UTC)
        except (OverflowError, ValueError, OSError):
            continue
        if EARLIEST_PLAUSIBLE <= when <= now + FUTURE_TOLERANCE:
            return when
    return None


def _feed_title(feed_info: Any, limit: int) -> str | None:
    return html_to_text(feed_info.get("title", "") or "", limit) or None


def _site_url(feed_info: Any, feed_url: str) -> str | None:
    return canonical_link(feed_info.get("link"), feed_url)


def _describe_bozo(parsed: Any) -> str:
    exc = parsed.get("bozo_exception")
    if exc is None:
        return "the document is not well-formed"
    name = type(exc).__name__
    message = clip(str(exc), 300)
    return f"{name}: {message}" if message else name


def _gunzip(body: bytes, max_bytes: int) -> bytes:
    """Decompress at most ``max_bytes``: a small gzip file can expand to gigabytes."""
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = decompressor.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise ParseError(f"the body looks gzip-compressed but is corrupt: {exc}") from None
    if len(out) > max_bytes:
        raise ParseError(f"the feed decompresses to more than {max_bytes} bytes")
    return out

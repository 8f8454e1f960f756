"""Parsing fetched feed bytes into plain dataclasses.

feedparser reads every dialect (RSS 0.9x/1.0/2.0, Atom, RDF) and repairs broken encodings; this
module then normalises each entry: plain-text title, canonical link, UTC date (or none when the feed's
date is missing or absurd), sanitised HTML, a bounded plain-text summary. No database, no network.

Most feeds are well-formed UTF-8. Those are read by feedparser-rs (the same results through
feedparser's interface, from a parser written in Rust: a twentieth of feedparser's time), and every
other document, or one feedparser-rs finds ill-formed, by feedparser itself, whose forgiving
reading of broken markup and encodings is what such feeds need (see _fast_candidate).
"""

from __future__ import annotations

import calendar
import functools
import html
import io
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import feedparser.mixin
import feedparser_rs

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
    fast: bool = True,
) -> ParsedFeed:
    """Parse one feed document; raises ParseError when it yields no entries. ``fast=False`` reads it
    with feedparser alone (what the fast path is compared with)."""
    now = now or datetime.now(UTC)
    if body.startswith(GZIP_MAGIC):
        # Some servers send gzip files without Content-Encoding; read them as what they are.
        body = _gunzip(body, max_bytes)
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = (_read_fast(body) if fast and _fast_candidate(body, content_type) else None) or _read(body, headers)
    feed_info: Any = parsed.get("feed", {})
    links = (
        _attribute_link
        if isinstance(parsed, feedparser_rs.FeedParserDict) and parsed.version.startswith("atom")
        else _as_given
    )
    entries: list[ParsedEntry] = []
    skipped = 0
    for raw in parsed.get("entries", []):
        entry = _parse_entry(raw, url, now, summary_chars, title_chars, links)
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
        site_url=_site_url(feed_info, url, links),
        entries=entries,
        warning=problem,
        skipped_entries=skipped,
        version=parsed.get("version", ""),
    )


def _read(body: bytes, headers: dict[str, str]) -> Any:
    # feedparser's own sanitiser and relative-link resolution are turned off: nh3 does both, to a
    # stricter allow-list, at a fraction of the cost of feedparser's pure-Python HTML passes.
    return feedparser.parse(
        io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )


# What sends a document to feedparser even when it decodes as UTF-8: a document type (entity
# declarations, which feedparser-rs leaves unexpanded) and an encoding other than UTF-8 declared by
# the document or by the server (feedparser honours those, and re-reading the bytes that way can
# differ from UTF-8).
_DECLARATIONS = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
# What feedparser reads and feedparser-rs does not: FeedBurner's original links, addresses relative
# to an xml:base, Atom 0.3's base64 content, and Windows-1252 points written as C1 controls or their
# character references (feedparser turns them into the quotes and dashes they were meant to be), and
# UTF-8 read as Latin-1 (which feedparser undoes). Looked for in the lower-cased document, each on
# its own: one case-blind regular expression of them all took six times as long as feedparser-rs's
# whole reading.
_FEEDPARSER_ONLY_WORDS = (b"origlink", b"xml:base")
_BASE64_MODE = re.compile(rb"""mode\s*=\s*["']base64""")
_WINDOWS_1252_REFERENCES = re.compile(rb"&#(?:1[2-5][0-9]|x[89][0-9a-f]);")
_C1_CONTROLS = re.compile(rb"\xc2[\x80-\x9f]")
# UTF-8 read as Latin-1 and written out as UTF-8 again ("Â¡" for "¡"): a character that would lead a
# UTF-8 sequence (U+00C2 to U+00F4) followed by one that would continue it (U+0080 to U+00BF).
# feedparser decodes such text once more; seeing one anywhere sends the document to it.
_DOUBLY_ENCODED = re.compile(rb"\xc3[\x82-\xb4]\xc2[\x80-\xbf]")
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([^"']+)""", re.IGNORECASE)
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([^\s;\"']+)", re.IGNORECASE)
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_GUIDS = re.compile(rb"<guid\b", re.IGNORECASE)
_NOT_PERMALINKS = re.compile(rb"""<guid\b[^>]*\bisPermaLink\s*=\s*["']false["']""", re.IGNORECASE)
_UTF8 = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
_PROLOG = 4096  # how far into a document its declarations are looked for


def feedparser_only(body: bytes) -> bool:
    """Whether ``body`` holds something only feedparser reads right (see _FEEDPARSER_ONLY_WORDS)."""
    lowered = body.lower()
    return (
        any(word in lowered for word in _FEEDPARSER_ONLY_WORDS)
        or (b"base64" in lowered and _BASE64_MODE.search(lowered) is not None)
        or _WINDOWS_1252_REFERENCES.search(lowered) is not None
        or _C1_CONTROLS.search(body) is not None
        or (b"\xc3" in body and _DOUBLY_ENCODED.search(body) is not None)
    )


def _fast_candidate(body: bytes, content_type: str | None) -> bool:
    """Whether feedparser-rs may read ``body``: well-formed-looking UTF-8 with nothing feedparser
    would read differently."""
    head = body[:_PROLOG].lstrip(b"\xef\xbb\xbf")
    if _DECLARATIONS.search(head) or feedparser_only(body):
        return False
    if body.isascii():
        return True  # every encoding feedparser might choose reads ASCII alike
    declared = _DECLARED_ENCODING.match(head)
    if declared and declared.group(1).decode("ascii", "replace").lower() not in _UTF8:
        return False
    charset = _CHARSET.search(content_type or "")
    if charset and charset.group(1).lower() not in _UTF8:
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _read_fast(body: bytes) -> Any | None:
    """feedparser-rs's reading of ``body``, or None when it found the document ill-formed or no feed
    (feedparser then reads it, and says what is wrong)."""
    try:
        parsed = feedparser_rs.parse(body, sanitize_html=False, resolve_relative_uris=False)
    except Exception:  # any failure of the fast path leaves the document to feedparser
        return None
    if parsed.bozo or not parsed.version or not parsed.entries:
        return None
    # feedparser resolves an entry's relative id against the feed's address (an Atom id, an RSS guid
    # unless it says it is no permalink, which feedparser-rs does not tell apart from a guid beside a
    # link): an id is what a stored story is known by, so such feeds stay with feedparser. A feed
    # whose every guid says isPermaLink="false" (ids like "site-123") keeps the fast path.
    if not all(_ABSOLUTE.match(entry.get("id") or "x:") for entry in parsed.entries) and (
        parsed.version.startswith("atom") or len(_GUIDS.findall(body)) != len(_NOT_PERMALINKS.findall(body))
    ):
        return None
    return parsed


def _attribute_link(value: str | None) -> str | None:
    # feedparser-rs gives an attribute's text as written, entity references and all (an Atom link's
    # "?a=1&amp;b=2"); an element's text it gives decoded, as feedparser does both.
    return html.unescape(value) if value and "&" in value else value


def _as_given(value: str | None) -> str | None:
    return value


def _parse_entry(
    raw: Any,
    feed_url: str,
    now: datetime,
    summary_chars: int,
    title_chars: int,
    links: Callable[[str | None], str | None] = _as_given,
) -> ParsedEntry | None:
    link = canonical_link(links(raw.get("feedburner_origlink") or raw.get("link")), feed_url)
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
        # dict.get skips FeedParserDict's deprecated updated -> published fallback mapping (an entry
        # of feedparser-rs is no dict, and has no such mapping).
        value: time.struct_time | None = dict.get(raw, key) if isinstance(raw, dict) else raw.get(key)
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


def _site_url(feed_info: Any, feed_url: str, links: Callable[[str | None], str | None] = _as_given) -> str | None:
    return canonical_link(links(feed_info.get("link")), feed_url)


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

"""What a parser worker does with one fetched feed: read its bytes into entries, then tag them.

The poll (digest.feeds.refresh) runs this in worker processes, one per core, while it fetches and
stores in its own. A worker starts by importing this module and unpickling what it is sent, so both
stay light: plain bytes and numbers in, dataclasses out, and nothing of the database layer, the
HTTP client or grouping, which would cost each worker more than half a second of a core before its
first feed. The rules are sent once per worker (``start_worker``), not once per feed.
"""

from __future__ import annotations

import logging
import pickle
from dataclasses import dataclass
from datetime import datetime

from digest.feeds.normalise import html_to_text
from digest.feeds.parse import ParsedFeed, ParseError, parse_feed
from digest.tagging.rules import Ruleset
from digest.tagging.tagger import Tagging, tag_story

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FeedBytes:
    """One fetched document and what reading it needs."""

    url: str  # where it was fetched from in the end: relative links are resolved against it
    body: bytes
    content_type: str | None
    now: datetime
    summary_chars: int
    title_chars: int
    max_bytes: int


@dataclass(frozen=True, slots=True)
class Reading:
    """The parsed feed, or the reason it could not be read; with each entry's topics when tagged."""

    parsed: ParsedFeed | None
    error: str | None = None
    taggings: tuple[Tagging, ...] | None = None  # one per entry of ``parsed``, in order


class _Worker:
    """What a worker process keeps between feeds: the rules it was started with."""

    ruleset: Ruleset | None = None


def start_worker(ruleset: bytes) -> None:
    """The worker processes' initializer: keep the rules (pickled) every feed of the poll is tagged with."""
    _Worker.ruleset = pickle.loads(ruleset)


def read_in_worker(data: FeedBytes) -> Reading:
    """``read_feed`` with the rules this worker was started with."""
    return read_feed(data, _Worker.ruleset)


def read_feed(data: FeedBytes, ruleset: Ruleset | None) -> Reading:
    """Parse one document and, with ``ruleset``, tag every entry; never raises."""
    try:
        parsed = parse_feed(
            data.body,
            data.url,
            content_type=data.content_type,
            now=data.now,
            summary_chars=data.summary_chars,
            title_chars=data.title_chars,
            max_bytes=data.max_bytes,
        )
    except ParseError as exc:
        return Reading(None, str(exc))
    except Exception as exc:  # a parser bug must cost one feed, never the whole poll
        log.exception("feed %s: unexpected failure while parsing", data.url)
        return Reading(None, f"could not be parsed ({type(exc).__name__}: {exc})")
    if ruleset is None:
        return Reading(parsed)
    # Every entry, though the store may find most of them unchanged: here the tagging costs a worker's
    # core, beside the parsing, rather than the one the poll fetches and stores with.
    taggings = tuple(tag_text(ruleset, e.title, e.summary_text, e.content_html) for e in parsed.entries)
    return Reading(parsed, taggings=taggings)


def tag_text(ruleset: Ruleset, title: str, summary: str, content_html: str = "") -> Tagging:
    """Tag a story from its stored fields (the content is HTML; it is read only when a rule asks)."""
    content = html_to_text(content_html) if content_html and ruleset.uses_content else ""
    return tag_story(ruleset, title, summary, content)

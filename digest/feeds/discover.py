"""Finding a site's feeds from its address: the ``<link rel="alternate">`` tags of its page.

The page is fetched through digest.feeds.fetch, so the same size limit, timeouts, redirect bound and
address guard apply as to every poll. An address that already is a feed is returned as it is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

from digest.config import FeedSettings
from digest.feeds.fetch import FetchRequest, FetchResult, fetch_feeds
from digest.feeds.normalise import canonical_link, clip

FEED_TYPES = {"application/rss+xml": "RSS", "application/atom+xml": "Atom", "application/feed+json": "JSON Feed"}
_FEED_CONTENT = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml")
_MAX_FOUND = 20


class DiscoveryError(Exception):
    """The page could not be read; the message says why."""


@dataclass(frozen=True, slots=True)
class FoundFeed:
    url: str
    title: str | None
    kind: str


def discover_feeds(page_url: str, settings: FeedSettings, user_agent: str) -> list[FoundFeed]:
    """The feeds a page announces (or the address itself, when it is a feed); DiscoveryError if unreadable."""
    result = asyncio.run(_fetch_one(page_url, settings, user_agent))
    if result.error or result.body is None:
        raise DiscoveryError(f"cannot read {page_url}: {result.error or 'no content'}")
    content_type = (result.content_type or "").split(";")[0].strip().lower()
    head = result.body[:1024].lstrip().lower()
    if content_type in _FEED_CONTENT or head.startswith(b"<?xml") or b"<rss" in head or b"<feed" in head:
        return [FoundFeed(result.moved_to or page_url, None, "feed")]
    return find_feed_links(result.body.decode("utf-8", "replace"), result.moved_to or page_url)


def find_feed_links(page: str, base: str) -> list[FoundFeed]:
    """The RSS and Atom feeds a page's ``<link rel="alternate" type=...>`` tags name, absolute, once each."""
    finder = _LinkFinder()
    finder.feed(page)
    finder.close()
    found: dict[str, FoundFeed] = {}
    page_base = urljoin(base, finder.base) if finder.base else base
    for href, title, kind in finder.links:
        url = canonical_link(urljoin(page_base, href))
        if url is not None and url not in found and len(found) < _MAX_FOUND:
            found[url] = FoundFeed(url, clip(title, 200) or None, kind)
    return list(found.values())


async def _fetch_one(url: str, settings: FeedSettings, user_agent: str) -> FetchResult:
    # Closed at once, not when the event loop ends: the client and its connections go with it.
    results = fetch_feeds([FetchRequest(0, url)], settings, user_agent)
    try:
        async for result in results:
            return result
    finally:
        if isinstance(results, AsyncGenerator):
            await results.aclose()
    raise DiscoveryError(f"cannot read {url}")  # pragma: no cover - one request always gives one result


class _LinkFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str, str]] = []
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): (value or "").strip() for name, value in attrs}
        if tag == "base" and values.get("href") and self.base is None:
            self.base = values["href"]
        if tag != "link" or "alternate" not in values.get("rel", "").lower().split():
            return
        kind = FEED_TYPES.get(values.get("type", "").lower())
        if kind and values.get("href"):
            self.links.append((values["href"], values.get("title", ""), kind))

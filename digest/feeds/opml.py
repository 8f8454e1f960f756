"""OPML subscription lists in and out: reading other readers' exports, writing ours.

Reading is listparser's (OPML 1.0 and 2.0, nested categories, the exports of Miniflux, rss2email,
FreshRSS and the rest); writing uses the standard library's ElementTree, in the shape those readers
import: one ``<outline type="rss" text title xmlUrl htmlUrl>`` per feed inside a category outline.
Importing adds every feed not already stored (compared by canonical address) and reports the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from xml.etree import ElementTree

import listparser
from sqlalchemy.orm import Session

from digest.feeds import store
from digest.feeds.models import Feed
from digest.feeds.normalise import clip

CATEGORY = "digest"
_DECLARED = re.compile(rb"""<\?xml[^>]*encoding=["']([A-Za-z0-9._-]+)["']""")


class OpmlError(ValueError):
    """The file is not an OPML subscription list; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    url: str
    title: str | None = None


@dataclass(slots=True)
class OpmlReport:
    added: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)  # "url: already added as ..." lines
    bad: list[str] = field(default_factory=list)  # "url: why" lines


def read_opml(document: bytes) -> list[OpmlFeed]:
    """The feeds listed in an OPML document, in order, each address once."""
    if not document.strip():
        raise OpmlError("the file is empty")
    parsed = listparser.parse(_text_of(document))
    if not parsed.feeds:
        if b"<opml" not in document[:4096].lower():
            raise OpmlError("not an OPML subscription list: it has no <opml> element")
        raise OpmlError("no feeds in it: an OPML list names each feed in an <outline xmlUrl=...>")
    found: dict[str, OpmlFeed] = {}
    for entry in parsed.feeds:
        url = str(entry.get("url", "")).strip()
        if not url:
            continue
        title = clip(str(entry.get("title") or ""), 500) or None
        found.setdefault(url, OpmlFeed(url, title))
    return list(found.values())


def _text_of(document: bytes) -> str:
    """The document as text: UTF-8 (with or without a byte-order mark), else the encoding it declares."""
    try:
        return document.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    declared = _DECLARED.match(document)
    encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    try:
        return document.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        raise OpmlError(f"not an OPML subscription list: the text is not valid {encoding}") from None


def write_opml(feeds: Iterable[Feed], now: datetime, title: str = "digest feeds") -> bytes:
    """An OPML 2.0 document listing ``feeds`` (every status: paused feeds are still subscriptions)."""
    root = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(root, "head")
    ElementTree.SubElement(head, "title").text = title
    ElementTree.SubElement(head, "dateCreated").text = format_datetime(now)
    body = ElementTree.SubElement(root, "body")
    category = ElementTree.SubElement(body, "outline", text=CATEGORY, title=CATEGORY)
    for feed in feeds:
        name = feed.title or feed.url
        attributes = {"type": "rss", "text": name, "title": name, "xmlUrl": feed.url}
        if feed.site_url:
            attributes["htmlUrl"] = feed.site_url
        ElementTree.SubElement(category, "outline", attributes)
    ElementTree.indent(root)
    document: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def import_feeds(session: Session, listed: Sequence[OpmlFeed], now: datetime) -> OpmlReport:
    """Add each listed feed that is not stored yet; nothing stored is changed."""
    report = OpmlReport()
    for entry in listed:
        if not entry.url.startswith(("http://", "https://")):
            report.bad.append(f"{entry.url}: not an http:// or https:// address")
            continue
        try:
            store.add_feed(session, entry.url, entry.title, now)
        except store.FeedExists as exc:
            report.existing.append(exc.describe())
            continue
        report.added.append(entry.url)
    return report

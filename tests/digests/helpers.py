"""Building a newsroom for digest tests: feeds ingested as the poller would, and subscribers."""

from __future__ import annotations

from datetime import datetime
from xml.sax.saxutils import escape

from sqlalchemy import Engine

from digest.config import Settings
from digest.db.engine import session_scope
from digest.feeds import entry_store, store
from digest.feeds.parse import parse_feed
from digest.feeds.retag import tag_and_save
from digest.subscribers import store as subscribers
from digest.subscribers.importer import add_subscriber
from digest.tagging.rules import Ruleset


def rss(*items: tuple[str, str, str]) -> bytes:
    """(title, link, summary HTML) items; the summary is put in CDATA exactly as given."""
    body = "".join(
        f"<item><title>{escape(title)}</title><link>{escape(link)}</link><guid>{escape(link)}</guid>"
        f"<description><![CDATA[{summary}]]></description></item>"
        for title, link, summary in items
    )
    document = (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Wire</title>{body}</channel></rss>'
    )
    return document.encode("utf-8", "surrogateescape")  # lone \udcXX become invalid bytes, like broken feeds


def ingest(
    engine: Engine,
    ruleset: Ruleset,
    document: bytes,
    now: datetime,
    feed_url: str = "https://wire.example/rss",
    title: str = "Wire",
) -> None:
    parsed = parse_feed(document, feed_url, now=now)
    with session_scope(engine) as s:
        existing = {f.url: f.id for f, _n in store.list_feeds(s)}
        feed_id = existing.get(feed_url) or store.add_feed(s, feed_url, title, now).id
        counts = entry_store.save_entries(s, feed_id, parsed.entries, now)
        stories = {i: (e.title, e.summary_text, e.content_html) for i, e in counts.changed.items()}
        tag_and_save(s, ruleset, stories, now, new=counts.created)


def subscribe(
    engine: Engine, settings: Settings, email: str, topics: list[str], frequency: str, at: datetime, ruleset: Ruleset
) -> None:
    with session_scope(engine) as s:
        add_subscriber(s, settings, email, topics, frequency, True, ruleset.slugs, at)
        person = subscribers.by_email(s, email)
        assert person is not None
        person.confirmed_at = at

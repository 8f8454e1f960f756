"""Stories and feeds as plain JSON-ready dicts: one shape for ``--json`` output and the JSON API.

The command line reads light rows (digest.db.light) and the API reads ORM objects; both have the fields named
here, so this module imports neither and each caller hands over the sources in its own way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from digest.db.times import iso


class StoryFields(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def link(self) -> str | None: ...
    @property
    def author(self) -> str | None: ...
    @property
    def published_at(self) -> datetime: ...
    @property
    def published_guessed(self) -> bool: ...
    @property
    def first_seen_at(self) -> datetime: ...
    @property
    def summary_text(self) -> str: ...


class FeedFields(Protocol):
    @property
    def url(self) -> str: ...
    @property
    def title(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def error_count(self) -> int: ...
    @property
    def last_error(self) -> str | None: ...
    @property
    def last_polled_at(self) -> datetime | None: ...
    @property
    def next_poll_at(self) -> datetime | None: ...


def story_json(
    story: StoryFields, tags: dict[str, list[str]], order: tuple[str, ...], sources: list[dict[str, str | None]]
) -> dict[str, object]:
    """A story with its topics (in the configured order), why each, and every feed that carried it
    (``sources``: feed_url, feed_title, guid, link)."""
    topics = ordered_topics(tags, order)
    return {
        "id": story.id,
        "title": story.title,
        "link": story.link,
        "published": story.published_at.isoformat(timespec="seconds"),
        "published_guessed": story.published_guessed,
        "first_seen": story.first_seen_at.isoformat(timespec="seconds"),
        "author": story.author,
        "summary": story.summary_text,
        "topics": topics,
        "why": {t: tags[t] for t in topics},
        "sources": sources,
    }


def ordered_topics(tags: dict[str, list[str]], order: tuple[str, ...]) -> list[str]:
    """Topics in the configured order; topics no longer configured last, alphabetically."""
    return [t for t in order if t in tags] + sorted(t for t in tags if t not in order)


def feed_json(feed: FeedFields, stories: int) -> dict[str, object]:
    """A feed and its health: status, consecutive errors, the last error, when it is polled next."""
    return {
        "url": feed.url,
        "title": feed.title,
        "status": feed.status,
        "error_count": feed.error_count,
        "last_error": feed.last_error,
        "last_polled": iso(feed.last_polled_at),
        "next_poll": iso(feed.next_poll_at) if feed.status not in ("disabled", "paused") else None,
        "stories": stories,
    }

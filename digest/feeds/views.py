"""Stories and feeds as plain JSON-ready dicts: one shape for ``--json`` output and the JSON API."""

from __future__ import annotations

from digest.db.base import iso
from digest.feeds.models import Feed, Story


def story_json(story: Story, tags: dict[str, list[str]], order: tuple[str, ...]) -> dict[str, object]:
    """A story with its topics (in the configured order), why each, and every feed that carried it."""
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
        "sources": [
            {"feed_url": s.feed.url, "feed_title": s.feed.title, "guid": s.guid, "link": s.link}
            for s in sorted(story.sources, key=lambda s: s.id)
        ],
    }


def ordered_topics(tags: dict[str, list[str]], order: tuple[str, ...]) -> list[str]:
    """Topics in the configured order; topics no longer configured last, alphabetically."""
    return [t for t in order if t in tags] + sorted(t for t in tags if t not in order)


def feed_json(feed: Feed, stories: int) -> dict[str, object]:
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

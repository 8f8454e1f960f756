"""What people see of an edition: its state, stories per topic, readers per topic group, lead, notes,
deliveries by state, failures with the server's answers, and the audit list. Shared by
``digest editions show`` and the console's edition page; everything is plain data (JSON-ready).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from digest.config import Settings
from digest.db.base import iso
from digest.db.light import sa_reader
from digest.digests import edition_store as store
from digest.digests import review
from digest.digests.edition_list import DELIVERY_STATES, current_editions, list_editions_view
from digest.digests.editions import edition_label, frequency_of, review_deadline, short_name
from digest.digests.select import load_by_ids, load_candidates, select_stories
from digest.tagging.rules import Ruleset

__all__ = ["DELIVERY_STATES", "current_editions", "edition_view", "list_view"]


def list_view(session: Session, settings: Settings, now: datetime) -> list[dict[str, Any]]:
    """The current editions (even before anyone opened them) and every stored one, newest first."""
    return list_editions_view(sa_reader(session.connection()), settings, now)


def edition_view(session: Session, settings: Settings, ruleset: Ruleset, key: str, now: datetime) -> dict[str, Any]:
    edition = store.by_key(session, key)
    desk = review.desk_of(session, key)
    frequency = frequency_of(key)
    names = {t.slug: t.name for t in ruleset.topics}
    # The stories of the edition: those its digests carry, and, while it is current, the window's news.
    ids = store.story_ids_of(session, key) | set(desk.excluded) | ({desk.lead} if desk.lead else set())
    stories = dict(load_by_ids(session, ids)) if ids else {}
    if key in current_editions(settings, now):
        since = now - timedelta(days=1 if frequency == "daily" else 7)
        stories.update({c.id: c for c in load_candidates(session, since, now)})
    ordered = sorted(stories.values(), key=lambda c: (c.published_at, c.id), reverse=True)
    grouped = select_stories(ordered, ruleset.group_order, ruleset.slugs, datetime.min.replace(tzinfo=UTC), 1000)
    exclusions = store.exclusions(session, edition.id) if edition else {}
    topics = [
        {
            "topic": topic,
            "name": names.get(topic, topic),
            "note": desk.notes.get(topic, ""),
            "stories": [
                {
                    "id": s.id,
                    "title": s.title,
                    "link": s.link,
                    "sources": list(s.sources),
                    "published": iso(s.published_at),
                    "excluded": s.id in exclusions,
                    "kept_for_next": exclusions.get(s.id, False),
                    "lead": s.id == desk.lead,
                }
                for s in group
            ],
        }
        for topic, group in grouped.groups
    ]
    lead = stories.get(desk.lead) if desk.lead else None
    counts = store.delivery_counts(session, key)
    deadline = None
    if edition and edition.planned_at and settings.digest.review == "approve" and settings.digest.review_deadline:
        deadline = iso(review_deadline(edition.planned_at, settings.digest.review_deadline, settings.digest.timezone))
    return {
        "edition": short_name(key),
        "key": key,
        "frequency": frequency,
        "label": edition_label(key),
        "state": edition.state if edition else "planned",
        "review": settings.digest.review,
        "planned_at": iso(edition.planned_at) if edition else None,
        "review_deadline": deadline,
        "lead": {"id": lead.id, "title": lead.title} if lead else None,
        "notes": {topic or "edition": body for topic, body in desk.notes.items()},
        "topics": topics,
        "readers": [
            {"topics": list(group), "names": [names.get(t, t) for t in group], "readers": n}
            for group, n in sorted(store.readers_by_group(session, frequency).items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "deliveries": {state: counts.get(state, 0) for state in DELIVERY_STATES},
        "failures": [
            {"email": f.email, "state": f.state, "answer": f.error, "attempts": f.attempts, "at": iso(f.at)}
            for f in store.failures(session, key)
        ],
        "decisions": [
            {
                "action": d.action,
                "editor": d.editor,
                "at": iso(d.decided_at),
                "story_id": d.story_id,
                "topic": d.topic,
                "detail": d.detail,
                "sent_before": d.sent_before,
            }
            for d in (store.decisions(session, edition.id) if edition else [])
        ],
    }

"""The edition desk: editors' decisions on one edition, and the state it moves through.

    planned -> approved -> sending -> sent        (or held, from any state before sent)

With ``digest.review = "auto"`` the send job takes a planned edition straight to sending. With
"approve" it plans the edition and waits: nothing is queued until an editor approves it, or until
``digest.review_deadline`` passes (never, when unset). Every decision is recorded with the editor, the
time and how many digests had already gone out; decisions made while an edition is sending apply to
the digests not sent yet.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from digest.config import Settings
from digest.digests import edition_store as store
from digest.digests.edition_models import Edition
from digest.digests.editions import Desk, review_deadline
from digest.digests.notes import check_note
from digest.feeds.models import Story


class EditionError(ValueError):
    """A decision that cannot be made (unknown story, edition already sent...); says why."""


def desk_of(session: Session, key: str) -> Desk:
    edition = store.by_key(session, key)
    if edition is None:
        return Desk(key)
    return Desk(
        key,
        edition.version,
        edition.lead_story_id,
        frozenset(store.exclusions(session, edition.id)),
        store.notes(session, edition.id),
    )


def _editable(session: Session, key: str, now: datetime) -> Edition:
    edition = store.lock(session, store.open_edition(session, key, now))
    if edition.state == "sent":
        raise EditionError(f"edition {key} is sent: it cannot be changed any more")
    return edition


def _changed(edition: Edition, now: datetime) -> None:
    edition.version += 1
    edition.updated_at = now


def _story(session: Session, story_id: int) -> Story:
    story = session.get(Story, story_id)
    if story is None:
        raise EditionError(f"no story has id {story_id}")
    return story


def exclude(session: Session, key: str, story_id: int, editor: str, now: datetime, *, keep_for_next: bool) -> Edition:
    story = _story(session, story_id)
    edition = _editable(session, key, now)
    store.set_exclusion(session, edition.id, story_id, keep_for_next)
    if edition.lead_story_id == story_id:
        edition.lead_story_id = None
    _changed(edition, now)
    detail = story.title + (" (kept for the next edition)" if keep_for_next else "")
    store.record(session, edition, "exclude", editor, now, story_id=story_id, detail=detail)
    return edition


def include(session: Session, key: str, story_id: int, editor: str, now: datetime) -> Edition:
    story = _story(session, story_id)
    edition = _editable(session, key, now)
    if not store.remove_exclusion(session, edition.id, story_id):
        raise EditionError(f"story {story_id} is not excluded from edition {key}")
    _changed(edition, now)
    store.record(session, edition, "include", editor, now, story_id=story_id, detail=story.title)
    return edition


def set_lead(session: Session, key: str, story_id: int | None, editor: str, now: datetime) -> Edition:
    """Make a story the lead (None: no lead); an excluded story cannot lead."""
    title = _story(session, story_id).title if story_id is not None else "no lead story"
    edition = _editable(session, key, now)
    if story_id is not None and story_id in store.exclusions(session, edition.id):
        raise EditionError(f"story {story_id} is excluded from edition {key}: include it first")
    edition.lead_story_id = story_id
    _changed(edition, now)
    store.record(session, edition, "lead", editor, now, story_id=story_id, detail=title)
    return edition


def set_note(
    session: Session, key: str, topic: str | None, text: str, editor: str, now: datetime, topics: list[str]
) -> Edition:
    """The note of the whole edition (topic None) or of one topic's section; empty text removes it."""
    if topic is not None and topic not in topics:
        raise EditionError(f"unknown topic '{topic}' (known: {', '.join(topics)})")
    body = check_note(text)
    edition = _editable(session, key, now)
    store.set_note(session, edition.id, topic or "", body)
    _changed(edition, now)
    detail = body if len(body) <= 200 else body[:199] + "…"
    store.record(session, edition, "note", editor, now, topic=topic, detail=detail or "(note removed)")
    return edition


def approve(session: Session, key: str, editor: str, now: datetime, *, action: str = "approve") -> Edition:
    edition = store.lock(session, store.open_edition(session, key, now))
    if edition.state in ("approved", "sending", "sent"):
        raise EditionError(f"edition {key} is already {edition.state}")
    # A held edition whose digests were queued goes on sending; otherwise the next send tick queues it.
    edition.state = "sending" if store.unfinished(session, key) else "approved"
    edition.updated_at = now
    store.record(session, edition, action, editor, now)
    return edition


def hold(session: Session, key: str, editor: str, now: datetime) -> Edition:
    edition = store.lock(session, store.open_edition(session, key, now))
    if edition.state in ("held", "sent"):
        raise EditionError(f"edition {key} is already {edition.state}")
    edition.state = "held"
    edition.updated_at = now
    store.record(session, edition, "hold", editor, now)
    return edition


def ready_to_queue(session: Session, settings: Settings, key: str, now: datetime) -> bool:
    """Called by planning: mark the edition planned, and say whether its digests may be queued now."""
    edition = store.lock(session, store.open_edition(session, key, now))
    if edition.planned_at is None:
        edition.planned_at = now
    if edition.state == "held":
        return False
    if edition.state == "planned" and settings.digest.review == "approve":
        deadline = settings.digest.review_deadline
        if deadline is None or now < review_deadline(edition.planned_at, deadline, settings.digest.timezone):
            return False
        edition.state = "approved"
        store.record(session, edition, "deadline", "review deadline", now, detail=f"not approved by {deadline}")
    if edition.state in ("planned", "approved"):
        edition.state, edition.updated_at = "sending", now
    return True


def due(session: Session, settings: Settings, now: datetime) -> list[str]:
    """Planned editions an editor approved, or whose review deadline passed: the retry tick sends them."""
    found = []
    for edition in store.in_states(session, ("planned", "approved")):
        if edition.planned_at is None:
            continue
        if edition.state == "approved":
            found.append(edition.key)
        elif settings.digest.review == "approve" and settings.digest.review_deadline is not None:
            deadline = review_deadline(edition.planned_at, settings.digest.review_deadline, settings.digest.timezone)
            if now >= deadline:
                found.append(edition.key)
    return found


def settle(session: Session, now: datetime) -> list[str]:
    """Editions whose every digest went out (or failed for good) are sent."""
    done = []
    for edition in store.in_states(session, ("sending",)):
        if not store.unfinished(session, edition.key):
            edition.state, edition.updated_at = "sent", now
            done.append(edition.key)
    return done


def held_editions(session: Session) -> set[str]:
    """Editions whose queued digests must wait: nothing of theirs is claimed while held."""
    return {e.key for e in store.in_states(session, ("held",))}

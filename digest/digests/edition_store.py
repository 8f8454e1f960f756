"""All SQL of editions: the edition rows, their exclusions, notes and decisions, and the read-only
views editors need of an edition's deliveries and readers.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from digest.digests.edition_models import Edition, EditionDecision, EditionExclusion, EditionNote
from digest.digests.editions import frequency_of
from digest.mail.models import Delivery
from digest.subscribers.models import Subscriber, SubscriberTopic


@dataclass(frozen=True, slots=True)
class Failure:
    email: str
    state: str
    error: str
    attempts: int
    at: datetime


def by_key(session: Session, key: str) -> Edition | None:
    return session.scalar(select(Edition).where(Edition.key == key))


def open_edition(session: Session, key: str, now: datetime) -> Edition:
    """The edition with this key, created (planned, nothing decided) when it does not exist yet."""
    dialect = session.get_bind().dialect.name
    values = {"key": key, "frequency": frequency_of(key), "state": "planned", "version": 0}
    values |= {"created_at": now, "updated_at": now}
    # Two processes opening one edition at once: the second insert is simply not made.
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(Edition).on_conflict_do_nothing(
        index_elements=["key"]
    )
    session.execute(statement, [values])
    edition = by_key(session, key)
    assert edition is not None
    return edition


def lock(session: Session, edition: Edition) -> Edition:
    """Read the row again, locked until the end of the transaction (PostgreSQL): decisions serialise."""
    session.refresh(edition, with_for_update=True)
    return edition


def list_editions(session: Session, limit: int = 60) -> list[Edition]:
    return list(session.scalars(select(Edition).order_by(Edition.key.desc()).limit(limit)))


def in_states(session: Session, states: Collection[str]) -> list[Edition]:
    return list(session.scalars(select(Edition).where(Edition.state.in_(states)).order_by(Edition.key)))


def exclusions(session: Session, edition_id: int) -> dict[int, bool]:
    """Excluded story id -> whether it is kept for the next edition."""
    query = select(EditionExclusion.story_id, EditionExclusion.keep_for_next).where(
        EditionExclusion.edition_id == edition_id
    )
    return {story_id: bool(keep) for story_id, keep in session.execute(query)}


def set_exclusion(session: Session, edition_id: int, story_id: int, keep_for_next: bool) -> None:
    row = session.get(EditionExclusion, (edition_id, story_id))
    if row is None:
        session.add(EditionExclusion(edition_id=edition_id, story_id=story_id, keep_for_next=keep_for_next))
    else:
        row.keep_for_next = keep_for_next
    session.flush()


def remove_exclusion(session: Session, edition_id: int, story_id: int) -> bool:
    result = session.execute(
        delete(EditionExclusion).where(EditionExclusion.edition_id == edition_id, EditionExclusion.story_id == story_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def kept_for_next(session: Session, frequency: str, before_key: str) -> set[int]:
    """Stories excluded from earlier editions of this frequency with "keep for the next one"."""
    query = (
        select(EditionExclusion.story_id)
        .join(Edition, Edition.id == EditionExclusion.edition_id)
        .where(Edition.frequency == frequency, Edition.key < before_key, EditionExclusion.keep_for_next.is_(True))
    )
    return set(session.scalars(query))


def previous_planned(session: Session, frequency: str, before_key: str) -> datetime | None:
    """When the last edition of this frequency before ``before_key`` was planned: where the current
    edition's window starts for a reader who has had no digest yet."""
    query = select(func.max(Edition.planned_at)).where(
        Edition.frequency == frequency, Edition.key < before_key, Edition.planned_at.is_not(None)
    )
    return session.scalar(query)


def notes(session: Session, edition_id: int) -> dict[str, str]:
    query = select(EditionNote.topic, EditionNote.body).where(EditionNote.edition_id == edition_id)
    return {topic: body for topic, body in session.execute(query)}


def set_note(session: Session, edition_id: int, topic: str, body: str) -> None:
    """Store a note; an empty one removes it."""
    row = session.get(EditionNote, (edition_id, topic))
    if not body:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(EditionNote(edition_id=edition_id, topic=topic, body=body))
    else:
        row.body = body
    session.flush()


def record(
    session: Session,
    edition: Edition,
    action: str,
    editor: str,
    now: datetime,
    *,
    story_id: int | None = None,
    topic: str | None = None,
    detail: str = "",
) -> EditionDecision:
    decision = EditionDecision(
        edition_id=edition.id,
        action=action,
        story_id=story_id,
        topic=topic,
        detail=detail,
        editor=editor,
        decided_at=now,
        sent_before=sent_count(session, edition.key),
    )
    session.add(decision)
    session.flush()
    return decision


def decisions(session: Session, edition_id: int) -> list[EditionDecision]:
    query = select(EditionDecision).where(EditionDecision.edition_id == edition_id).order_by(EditionDecision.id)
    return list(session.scalars(query))


def sent_count(session: Session, key: str) -> int:
    query = select(func.count()).select_from(Delivery).where(Delivery.edition == key, Delivery.state == "sent")
    return session.scalar(query) or 0


def delivery_counts(session: Session, key: str) -> dict[str, int]:
    query = select(Delivery.state, func.count()).where(Delivery.edition == key).group_by(Delivery.state)
    return {state: int(n) for state, n in session.execute(query)}


def unfinished(session: Session, key: str) -> int:
    """Deliveries of the edition still waiting to be sent (queued or in a sender's hands)."""
    query = (
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.edition == key, Delivery.state.in_(("queued", "sending")))
    )
    return session.scalar(query) or 0


def failures(session: Session, key: str, limit: int = 100) -> list[Failure]:
    """Failed deliveries, and queued ones waiting for a retry, with the server's last answer."""
    query = (
        select(Subscriber.email, Delivery.state, Delivery.last_error, Delivery.attempts, Delivery.updated_at)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.edition == key, Delivery.last_error.is_not(None), Delivery.state.in_(("failed", "queued")))
        .order_by(Delivery.updated_at.desc())
        .limit(limit)
    )
    rows = session.execute(query)
    return [Failure(email, state, error or "", attempts, at) for email, state, error, attempts, at in rows]


def story_ids_of(session: Session, key: str) -> set[int]:
    """Every story chosen for some delivery of the edition."""
    found: set[int] = set()
    for ids in session.scalars(select(Delivery.story_ids).where(Delivery.edition == key).distinct()):
        found.update(json.loads(ids))
    return found


def received(session: Session, subscriber_ids: Sequence[int], since: datetime) -> dict[int, set[int]]:
    """For each subscriber, the stories in the digests they were sent with a window after ``since``."""
    query = select(Delivery.subscriber_id, Delivery.story_ids).where(
        Delivery.subscriber_id.in_(subscriber_ids), Delivery.state == "sent", Delivery.window_end > since
    )
    result: dict[int, set[int]] = {}
    for subscriber_id, ids in session.execute(query):
        result.setdefault(subscriber_id, set()).update(json.loads(ids))
    return result


def set_delivered_stories(session: Session, delivery_id: int, story_ids: Sequence[int]) -> None:
    """What a delivery really carries once editors' exclusions are applied at sending."""
    session.execute(update(Delivery).where(Delivery.id == delivery_id).values(story_ids=json.dumps(list(story_ids))))


def readers_by_group(session: Session, frequency: str) -> Counter[tuple[str, ...]]:
    """Confirmed readers of this frequency per topic group (their exact choice of topics).

    The database joins each reader's topics into one string and counts the readers per string, so
    only one row per distinct group comes back, however many readers there are.
    """
    if session.get_bind().dialect.name == "postgresql":
        joined = func.string_agg(
            SubscriberTopic.topic, aggregate_order_by(literal_column("' '"), SubscriberTopic.topic)
        )
    else:
        # SQLite before 3.44 cannot order group_concat; the order it happens to use is undone below.
        joined = func.group_concat(SubscriberTopic.topic, " ")
    per_reader = (
        select(joined.label("topics"))
        .join(Subscriber, Subscriber.id == SubscriberTopic.subscriber_id)
        .where(Subscriber.status == "confirmed", Subscriber.frequency == frequency)
        .group_by(SubscriberTopic.subscriber_id)
        .subquery()
    )
    counted = select(per_reader.c.topics, func.count()).group_by(per_reader.c.topics)
    groups: Counter[tuple[str, ...]] = Counter()
    for topics, readers in session.execute(counted):
        groups[tuple(sorted(topics.split(" ")))] += readers
    return groups


def history(session: Session, subscriber_id: int, limit: int = 100) -> list[Delivery]:
    query = select(Delivery).where(Delivery.subscriber_id == subscriber_id).order_by(Delivery.id.desc()).limit(limit)
    return list(session.scalars(query))

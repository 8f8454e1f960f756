"""All SQL of the bounces domain: recording reports once, finding their delivery, counting, purging."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from digest.bounces.models import BounceEvent
from digest.mail.models import Delivery


@dataclass(frozen=True, slots=True)
class Tie:
    """The delivery and subscriber a report is about, and how that was found."""

    subscriber_id: int | None
    delivery_id: int | None
    by: str  # return-path, message-id, recipient, or "" when nothing matched


def record(session: Session, values: dict[str, Any]) -> int | None:
    """Store one report; None when a report with its key was stored before (it is not acted on again)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(cast(Table, BounceEvent.__table__))
        .values(**values)
        .on_conflict_do_nothing(index_elements=["report_key"])
        .returning(BounceEvent.id)
    )
    return session.execute(statement).scalar()


def is_recorded(session: Session, report_key: str) -> bool:
    return session.scalar(select(BounceEvent.id).where(BounceEvent.report_key == report_key)) is not None


def set_action(session: Session, event_id: int, action: str) -> None:
    session.execute(update(BounceEvent).where(BounceEvent.id == event_id).values(action=action))


def delivery(session: Session, delivery_id: int) -> Tie | None:
    row = session.execute(select(Delivery.id, Delivery.subscriber_id).where(Delivery.id == delivery_id)).first()
    return Tie(row.subscriber_id, row.id, "") if row else None


def delivery_by_message_id(session: Session, message_id: str) -> Tie | None:
    query = select(Delivery.id, Delivery.subscriber_id).where(Delivery.message_id == message_id).limit(1)
    row = session.execute(query).first()
    return Tie(row.subscriber_id, row.id, "") if row else None


def latest_sent(session: Session, subscriber_id: int) -> int | None:
    query = select(func.max(Delivery.id)).where(Delivery.subscriber_id == subscriber_id, Delivery.state == "sent")
    return session.scalar(query)


def soft_bounces_counted(session: Session, subscriber_id: int, since: datetime, delivery_id: int | None) -> int:
    """Soft bounces of a subscriber since ``since`` that no successful delivery has reset.

    A delivery succeeded when it was sent and nothing bounced for it; only deliveries older than the
    one this bounce is about count, since a newer one may simply not have bounced yet.
    """
    bounced = exists().where(BounceEvent.delivery_id == Delivery.id, BounceEvent.kind.in_(("hard", "soft")))
    clean = select(Delivery.id, Delivery.sent_at).where(
        Delivery.subscriber_id == subscriber_id, Delivery.state == "sent", ~bounced
    )
    if delivery_id is not None:
        clean = clean.where(Delivery.id < delivery_id)
    last_clean = session.execute(clean.order_by(Delivery.id.desc()).limit(1)).first()
    query = (
        select(func.count())
        .select_from(BounceEvent)
        .where(BounceEvent.subscriber_id == subscriber_id, BounceEvent.kind == "soft", BounceEvent.received_at >= since)
    )
    if last_clean is not None:
        after = BounceEvent.delivery_id > last_clean.id
        if last_clean.sent_at is not None:
            after = or_(after, and_(BounceEvent.delivery_id.is_(None), BounceEvent.received_at > last_clean.sent_at))
        query = query.where(after)
    return session.scalar(query) or 0


def purge_originals(session: Session, before: datetime) -> int:
    """Erase the originals of reports received before ``before``; the events themselves stay."""
    result = session.execute(
        update(BounceEvent)
        .where(BounceEvent.received_at < before, BounceEvent.original.is_not(None))
        .values(original=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def events_of(session: Session, subscriber_id: int) -> list[BounceEvent]:
    query = select(BounceEvent).where(BounceEvent.subscriber_id == subscriber_id).order_by(BounceEvent.id)
    return list(session.scalars(query))


def event(session: Session, event_id: int) -> BounceEvent | None:
    return session.get(BounceEvent, event_id)


def counts_by_edition(session: Session, editions: Sequence[str]) -> dict[str, dict[str, int]]:
    """Per edition: deliveries sent, and how many of them bounced (hard or soft) or drew a complaint."""
    result: dict[str, dict[str, int]] = {e: {"sent": 0, "bounced": 0, "complained": 0} for e in editions}
    if not editions:
        return result
    sent = (
        select(Delivery.edition, func.count())
        .where(Delivery.edition.in_(editions), Delivery.state == "sent")
        .group_by(Delivery.edition)
    )
    for edition, n in session.execute(sent):
        result[edition]["sent"] = int(n)
    kinds = (
        select(Delivery.edition, BounceEvent.kind, func.count(func.distinct(Delivery.id)))
        .join(Delivery, Delivery.id == BounceEvent.delivery_id)
        .where(Delivery.edition.in_(editions), BounceEvent.kind.in_(("hard", "soft", "complaint")))
        .group_by(Delivery.edition, BounceEvent.kind)
    )
    for edition, kind, n in session.execute(kinds):
        result[edition]["complained" if kind == "complaint" else "bounced"] += int(n)
    return result


def recent_editions(session: Session, limit: int) -> list[str]:
    """The editions most recently sent, newest first."""
    query = (
        select(Delivery.edition)
        .where(Delivery.state == "sent")
        .group_by(Delivery.edition)
        .order_by(func.max(Delivery.sent_at).desc())
        .limit(limit)
    )
    return list(session.scalars(query))

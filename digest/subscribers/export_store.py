"""The SQL of a person's data export: everything stored about one subscriber, read with Core only.

One export for every place that offers it (the reader's preferences page, the editor console,
``digest subscribers export``). The command must answer at once, so these reads name their columns
in light ``table()`` objects instead of loading the ORM and every model; the models stay the
description of the schema (the migrations make it). Deliveries are the outbox's rows, read here only.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Integer, String, Text, select

from digest.db.types import UTCDateTime, iso, light_table
from digest.subscribers.addresses import salted_hash

_PEOPLE = light_table(
    "subscribers", id=Integer, email=String, status=String, frequency=String, policy_version=String,
    created_at=UTCDateTime, confirmed_at=UTCDateTime, unsubscribed_at=UTCDateTime,
    last_mail_request_at=UTCDateTime,
)  # fmt: skip
_TOPICS = light_table("subscriber_topics", subscriber_id=Integer, topic=String)
_CONSENTS = light_table(
    "consent_events", id=Integer, subscriber_id=Integer, action=String, method=String, policy_version=String,
    detail=Text, at=UTCDateTime, client_ip=String, user_agent=String,
)  # fmt: skip
_DELIVERIES = light_table(
    "deliveries", id=Integer, subscriber_id=Integer, edition=String, state=String, story_ids=Text,
    sent_at=UTCDateTime, attempts=Integer, last_error=Text,
)  # fmt: skip
_BOUNCES = light_table(
    "bounce_events", id=Integer, subscriber_id=Integer, received_at=UTCDateTime, kind=String, source=String,
    status=String, reason=Text, action=String,
)  # fmt: skip
_SUPPRESSIONS = light_table("suppressions", address_hash=String)
_SECRETS = light_table("app_secrets", name=String, value=String)


def subscriber_id(connection: Connection, email: str) -> int | None:
    """The id of the person with this (normalised) address, if there is one."""
    found = connection.scalar(select(_PEOPLE.c.id).where(_PEOPLE.c.email == email))
    return int(found) if found is not None else None


def export_person(connection: Connection, ident: int) -> dict[str, Any]:
    """Everything stored about one person, for them or for an editor answering their request."""
    person = connection.execute(select(_PEOPLE).where(_PEOPLE.c.id == ident)).one()
    topics = connection.scalars(select(_TOPICS.c.topic).where(_TOPICS.c.subscriber_id == ident))
    consents = connection.execute(
        select(_CONSENTS).where(_CONSENTS.c.subscriber_id == ident).order_by(_CONSENTS.c.id)
    ).all()
    deliveries = connection.execute(
        select(_DELIVERIES).where(_DELIVERIES.c.subscriber_id == ident).order_by(_DELIVERIES.c.id)
    ).all()
    bounces = connection.execute(
        select(_BOUNCES).where(_BOUNCES.c.subscriber_id == ident).order_by(_BOUNCES.c.id)
    ).all()
    return {
        "email": person.email,
        "status": person.status,
        "topics": sorted(topics),
        "frequency": person.frequency,
        "policy_version_agreed": person.policy_version,
        "created_at": iso(person.created_at),
        "confirmed_at": iso(person.confirmed_at),
        "unsubscribed_at": iso(person.unsubscribed_at),
        "last_confirmation_or_notice_sent_at": iso(person.last_mail_request_at),
        "consent_events": [
            {
                "action": event.action,
                "method": event.method,
                "policy_version": event.policy_version,
                "detail": event.detail,
                "at": iso(event.at),
                **({"client_ip": event.client_ip} if event.client_ip else {}),
                **({"user_agent": event.user_agent} if event.user_agent else {}),
            }
            for event in consents
        ],
        "deliveries": [
            {
                "edition": d.edition,
                "state": d.state,
                "stories": json.loads(d.story_ids),
                "sent_at": iso(d.sent_at),
                "attempts": d.attempts,
                **({"last_error": d.last_error} if d.last_error else {}),
            }
            for d in deliveries
        ],
        # What came back for their messages (the originals are not repeated here).
        "bounces": [
            {
                "received_at": iso(b.received_at),
                "kind": b.kind,
                "source": b.source,
                "status": b.status,
                "reason": b.reason,
                "action": b.action,
            }
            for b in bounces
        ],
        "suppressed": _is_suppressed(connection, person.email),
    }


def _is_suppressed(connection: Connection, email: str) -> bool:
    salt = connection.scalar(select(_SECRETS.c.value).where(_SECRETS.c.name == "suppression_salt"))
    if salt is None:  # made with the first suppression: without it, nobody is suppressed yet
        return False
    hashed = salted_hash(salt.encode(), email)
    return (
        connection.scalar(select(_SUPPRESSIONS.c.address_hash).where(_SUPPRESSIONS.c.address_hash == hashed))
        is not None
    )

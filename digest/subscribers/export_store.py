"""The SQL of a person's data export: everything stored about one subscriber, in plain SQL.

One export for every place that offers it (the reader's preferences page, the editor console, the
API, ``digest subscribers export``). The command must answer at once, so this is plain SQL read
through the drivers themselves (digest.db.light), without importing SQLAlchemy; the web app runs the
same SQL inside its own transactions. The models stay the description of the schema (the
migrations make it). Deliveries are the outbox's rows, read here only.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from digest.db.light import Reader, utc
from digest.db.times import iso
from digest.subscribers.addresses import salted_hash

_PERSON = (
    "SELECT email, status, frequency, policy_version, created_at, confirmed_at, unsubscribed_at, last_mail_request_at"
    " FROM subscribers WHERE id = ?"
)
_CONSENTS = (
    "SELECT action, method, policy_version, detail, at, client_ip, user_agent"
    " FROM consent_events WHERE subscriber_id = ? ORDER BY id"
)
_DELIVERIES = (
    "SELECT edition, state, story_ids, sent_at, attempts, last_error"
    " FROM deliveries WHERE subscriber_id = ? ORDER BY id"
)
_BOUNCES = (
    "SELECT received_at, kind, source, status, reason, action FROM bounce_events WHERE subscriber_id = ? ORDER BY id"
)


def _when(value: datetime | str | None) -> str | None:
    return iso(utc(value))


def subscriber_id(reader: Reader, email: str) -> int | None:
    """The id of the person with this (normalised) address, if there is one."""
    found = reader.scalar("SELECT id FROM subscribers WHERE email = ?", (email,))
    return int(found) if found is not None else None


def export_person(reader: Reader, ident: int) -> dict[str, Any]:
    """Everything stored about one person, for them or for an editor answering their request."""
    email, status, frequency, policy, created, confirmed, unsubscribed, notified = reader.rows(_PERSON, (ident,))[0]
    topics = [
        topic for (topic,) in reader.rows("SELECT topic FROM subscriber_topics WHERE subscriber_id = ?", (ident,))
    ]
    return {
        "email": email,
        "status": status,
        "topics": sorted(topics),
        "frequency": frequency,
        "policy_version_agreed": policy,
        "created_at": _when(created),
        "confirmed_at": _when(confirmed),
        "unsubscribed_at": _when(unsubscribed),
        "last_confirmation_or_notice_sent_at": _when(notified),
        "consent_events": [
            {
                "action": action,
                "method": method,
                "policy_version": version,
                "detail": detail,
                "at": _when(at),
                **({"client_ip": client_ip} if client_ip else {}),
                **({"user_agent": user_agent} if user_agent else {}),
            }
            for action, method, version, detail, at, client_ip, user_agent in reader.rows(_CONSENTS, (ident,))
        ],
        "deliveries": [
            {
                "edition": edition,
                "state": state,
                "stories": json.loads(story_ids),
                "sent_at": _when(sent_at),
                "attempts": attempts,
                **({"last_error": last_error} if last_error else {}),
            }
            for edition, state, story_ids, sent_at, attempts, last_error in reader.rows(_DELIVERIES, (ident,))
        ],
        # What came back for their messages (the originals are not repeated here).
        "bounces": [
            {
                "received_at": _when(received_at),
                "kind": kind,
                "source": source,
                "status": bounce_status,
                "reason": reason,
                "action": action,
            }
            for received_at, kind, source, bounce_status, reason, action in reader.rows(_BOUNCES, (ident,))
        ],
        "suppressed": _is_suppressed(reader, email),
    }


def _is_suppressed(reader: Reader, email: str) -> bool:
    salt = reader.scalar("SELECT value FROM app_secrets WHERE name = 'suppression_salt'")
    if salt is None:  # made with the first suppression: without it, nobody is suppressed yet
        return False
    hashed = salted_hash(salt.encode(), email)
    return reader.scalar("SELECT 1 FROM suppressions WHERE address_hash = ?", (hashed,)) is not None

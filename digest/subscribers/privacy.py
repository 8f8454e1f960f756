"""The reader's rights and the outlet's promise in code: normalised addresses, salted-hash suppression,
export of everything stored about a person, erasure that leaves only the hash behind.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from digest.db.light import sa_reader
from digest.subscribers import store
from digest.subscribers.addresses import InvalidEmail, normalise_email, salted_hash
from digest.subscribers.export_store import export_person
from digest.subscribers.models import Subscriber

__all__ = ["InvalidEmail", "address_hash", "address_hasher", "erase_subscriber", "export_subscriber", "normalise_email"]


def address_hash(session: Session, email: str) -> str:
    """The salted hash kept of an erased or unsubscribed address (the salt is per installation)."""
    return address_hasher(session)(email)


def address_hasher(session: Session) -> Callable[[str], str]:
    """``address_hash`` for many addresses: the salt is read once."""
    key = store.installation_secret(session, "suppression_salt").encode()
    return lambda email: salted_hash(key, email)


def is_suppressed(session: Session, email: str) -> bool:
    return store.is_suppressed(session, address_hash(session, email))


def export_subscriber(session: Session, subscriber: Subscriber) -> dict[str, Any]:
    """Everything stored about one person, for them or for an editor answering their request."""
    session.flush()  # the export reads the tables themselves: changes made in this session first
    return export_person(sa_reader(session.connection()), subscriber.id)


def erase_subscriber(session: Session, subscriber: Subscriber, now: datetime) -> None:
    """Delete the person, their preferences, consent records and deliveries; keep only the hash."""
    store.suppress(session, address_hash(session, subscriber.email), "erased", now)
    store.delete_subscriber(session, subscriber)

"""The reader's rights and the outlet's promise in code: normalised addresses, salted-hash suppression,
export of everything stored about a person, erasure that leaves only the hash behind.
"""

from __future__ import annotations

import functools
import hmac
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import DOT_ATOM_TEXT, LOCAL_PART_MAX_LENGTH
from sqlalchemy.orm import Session

from digest.db.base import iso
from digest.mail import outbox
from digest.subscribers import store
from digest.subscribers.models import Subscriber

MAX_EMAIL_LENGTH = 254


class InvalidEmail(ValueError):
    """Not an address mail can be sent to; the message says what is wrong with it."""


def normalise_email(raw: str) -> str:
    """The address as stored and compared: validated, domain in IDNA form, all lower case."""
    text = (raw or "").strip()
    if not text:
        raise InvalidEmail("an email address is required")
    if len(text) > MAX_EMAIL_LENGTH:
        raise InvalidEmail(f"an email address is at most {MAX_EMAIL_LENGTH} characters")
    # Most of email_validator's time goes to the domain, and a list of a million people has far fewer
    # domains: a plain ASCII local part (its own dot-atom pattern) with a domain it already accepted
    # needs no second look. Anything else, and every error, takes the full validation.
    local, _, domain = text.rpartition("@")
    if len(local) <= LOCAL_PART_MAX_LENGTH and DOT_ATOM_TEXT.match(local):
        ascii_domain = _accepted_domain(domain)
        if ascii_domain is not None and len(local) + 1 + len(ascii_domain) <= MAX_EMAIL_LENGTH:
            return f"{local.lower()}@{ascii_domain}"
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(f"'{text}' is not a valid email address: {exc}") from None
    # Mail providers treat the local part without regard to case; one person, one row.
    return f"{result.local_part.lower()}@{result.ascii_domain.lower()}"


@functools.lru_cache(maxsize=65536)
def _accepted_domain(domain: str) -> str | None:
    """The domain in lower-case IDNA form if email_validator accepts it in an address, else None."""
    try:
        return validate_email(f"a@{domain}", check_deliverability=False).ascii_domain.lower()
    except EmailNotValidError:
        return None


def address_hash(session: Session, email: str) -> str:
    """The salted hash kept of an erased or unsubscribed address (the salt is per installation)."""
    return address_hasher(session)(email)


def address_hasher(session: Session) -> Callable[[str], str]:
    """``address_hash`` for many addresses: the salt is read once."""
    key = store.installation_secret(session, "suppression_salt").encode()
    return lambda email: hmac.digest(key, email.encode(), "sha256").hex()


def is_suppressed(session: Session, email: str) -> bool:
    return store.is_suppressed(session, address_hash(session, email))


def export_subscriber(session: Session, subscriber: Subscriber) -> dict[str, Any]:
    """Everything stored about one person, for them or for an editor answering their request."""
    return {
        "email": subscriber.email,
        "status": subscriber.status,
        "topics": subscriber.topic_slugs,
        "frequency": subscriber.frequency,
        "policy_version_agreed": subscriber.policy_version,
        "created_at": iso(subscriber.created_at),
        "confirmed_at": iso(subscriber.confirmed_at),
        "unsubscribed_at": iso(subscriber.unsubscribed_at),
        "last_confirmation_or_notice_sent_at": iso(subscriber.last_mail_request_at),
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
            for event in store.consents(session, subscriber)
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
            for d in outbox.deliveries_of(session, subscriber.id)
        ],
        "suppressed": is_suppressed(session, subscriber.email),
    }


def erase_subscriber(session: Session, subscriber: Subscriber, now: datetime) -> None:
    """Delete the person, their preferences, consent records and deliveries; keep only the hash."""
    store.suppress(session, address_hash(session, subscriber.email), "erased", now)
    store.delete_subscriber(session, subscriber)

"""Sign-up, double opt-in, preferences and unsubscribing: the decisions, without HTTP or mail.

The web layer calls these inside one transaction and then sends whatever mail the outcome asks for.
Every path answers the same way to the outside whether an address is new, pending or subscribed; only
the mail that goes to the address itself differs, so the form cannot be used to learn who subscribes.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from digest.config import Settings
from digest.db.engine import session_scope
from digest.mail import outbox
from digest.subscribers import bulk_store, store
from digest.subscribers.models import FREQUENCIES, Subscriber
from digest.subscribers.privacy import address_hash, address_hasher, normalise_email


class InvalidChoice(ValueError):
    """Topics or frequency that cannot be accepted; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Client:
    """Who is asking, as far as the operator allows it to be stored."""

    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class SignupOutcome:
    # "confirm": send the confirmation link; "reminder": send "already subscribed, manage your topics";
    # "none": send nothing (throttled, honeypot, or a mail went to this address moments ago).
    mail: str
    subscriber: Subscriber | None = None


def check_choice(topics: Collection[str], frequency: str, known_topics: Collection[str]) -> tuple[list[str], str]:
    chosen = sorted(set(topics))
    if not chosen:
        raise InvalidChoice("choose at least one topic")
    unknown = [t for t in chosen if t not in known_topics]
    if unknown:
        raise InvalidChoice(f"unknown topic {', '.join(unknown)}; the topics are {', '.join(known_topics)}")
    if frequency not in FREQUENCIES:
        raise InvalidChoice(f"frequency must be {' or '.join(FREQUENCIES)}, not '{frequency}'")
    return chosen, frequency


def request_subscription(
    session: Session,
    settings: Settings,
    raw_email: str,
    topics: Collection[str],
    frequency: str,
    known_topics: Collection[str],
    now: datetime,
    client: Client = Client(),
    *,
    method: str = "web",
    note: str = "",
) -> SignupOutcome:
    """A sign-up from the web form (or, with ``method`` "api", from the JSON API; ``note`` says more
    for the consent log). Raises InvalidEmail / InvalidChoice for input people must fix."""
    email = normalise_email(raw_email)
    chosen, frequency = check_choice(topics, frequency, known_topics)
    if _throttled(session, settings, email, client, now):
        return SignupOutcome("none")
    subscriber = store.by_email(session, email)
    recent = _mailed_recently(settings, subscriber, now)
    if subscriber is not None and subscriber.status == "confirmed":
        # Never change a confirmed subscription from an unauthenticated form: remind them instead.
        if recent:
            return SignupOutcome("none", subscriber)
        subscriber.last_mail_request_at = now
        return SignupOutcome("reminder", subscriber)
    if subscriber is None:
        subscriber = store.create(session, email, frequency, now)
    subscriber.status = "pending"
    subscriber.frequency = frequency
    store.set_topics(session, subscriber, chosen)
    store.record_consent(
        session,
        subscriber,
        "requested",
        method,
        now,
        policy_version=settings.privacy.policy_version,
        detail=_detail(chosen, frequency) + (f"; {note}" if note else ""),
        **_client_fields(settings, client),
    )
    if recent:
        return SignupOutcome("none", subscriber)
    subscriber.last_mail_request_at = now
    return SignupOutcome("confirm", subscriber)


def confirm(
    session: Session, settings: Settings, subscriber: Subscriber, now: datetime, client: Client = Client()
) -> bool:
    """Confirm a pending subscription from its emailed link; False when there was nothing to confirm."""
    if subscriber.status != "pending":
        return False
    subscriber.status = "confirmed"
    subscriber.confirmed_at = now
    subscriber.unsubscribed_at = None
    subscriber.policy_version = settings.privacy.policy_version
    # Asking again, by a link only the address's owner has, is a new consent: the old opt-out is lifted.
    store.unsuppress(session, address_hash(session, subscriber.email))
    store.record_consent(
        session,
        subscriber,
        "confirmed",
        "email-link",
        now,
        policy_version=settings.privacy.policy_version,
        detail=_detail(subscriber.topic_slugs, subscriber.frequency),
        **_client_fields(settings, client),
    )
    return True


def update_preferences(
    session: Session,
    settings: Settings,
    subscriber: Subscriber,
    topics: Collection[str],
    frequency: str,
    known_topics: Collection[str],
    now: datetime,
    client: Client = Client(),
) -> None:
    chosen, frequency = check_choice(topics, frequency, known_topics)
    subscriber.frequency = frequency
    store.set_topics(session, subscriber, chosen)
    store.record_consent(
        session,
        subscriber,
        "preferences",
        "web",
        now,
        policy_version=subscriber.policy_version,
        detail=_detail(chosen, frequency),
        **_client_fields(settings, client),
    )


def accept_policy(
    session: Session, settings: Settings, subscriber: Subscriber, now: datetime, client: Client = Client()
) -> None:
    subscriber.policy_version = settings.privacy.policy_version
    store.record_consent(
        session,
        subscriber,
        "policy-accepted",
        "web",
        now,
        policy_version=settings.privacy.policy_version,
        **_client_fields(settings, client),
    )


def unsubscribe(
    session: Session,
    subscriber: Subscriber,
    method: str,
    now: datetime,
    *,
    reason: str = "unsubscribed",
    detail: str = "",
) -> bool:
    """Stop all mail to this address at once; False when it was already unsubscribed.

    ``reason`` is kept with the suppression (unsubscribed, bounced, complained); ``detail`` in the
    consent record (what bounced, and why)."""
    if subscriber.status == "unsubscribed":
        return False
    # Digests first: a sender records its outcomes in the same order (delivery, then subscriber).
    outbox.cancel_unsent(session, subscriber.id, now)
    subscriber.status = "unsubscribed"
    subscriber.unsubscribed_at = now
    store.suppress(session, address_hash(session, subscriber.email), reason, now)
    store.record_consent(
        session, subscriber, "unsubscribed", method, now, policy_version=subscriber.policy_version, detail=detail
    )
    return True


def wait_for_mail_in_flight(engine: Engine, subscriber_id: int, timeout: float) -> bool:
    """After an unsubscribe is committed: wait until no digest to this reader is half handed over.

    A digest the sender had already started handing to the mail server could still arrive after the
    reader was told they are unsubscribed; answering only once it is through keeps that promise.
    False when the wait ran out (a stalled mail server): the unsubscribe stands either way.
    """
    deadline = time.monotonic() + timeout
    while True:
        with session_scope(engine) as session:
            if not outbox.in_flight(session, subscriber_id):
                return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)


def needs_policy_acceptance(settings: Settings, subscriber: Subscriber) -> bool:
    return subscriber.status == "confirmed" and subscriber.policy_version != settings.privacy.policy_version


def confirmations_allowed(
    session: Session, settings: Settings, people: Sequence[Subscriber], now: datetime
) -> list[Subscriber]:
    """Of pending people added by an editor or an import, those the form's limits let be mailed now.

    The same limits as a sign-up through the form: no more mails to one address in an hour than
    ``signup.per_address_per_hour`` (form requests included), none within the resend window.
    """
    hasher = address_hasher(session)
    keys = {person.id: _address_key(hasher(person.email)) for person in people}
    counts = bulk_store.throttle_counts(session, keys.values(), now - timedelta(hours=1))
    limit = settings.signup.per_address_per_hour
    return [
        person
        for person in people
        if person.status == "pending"
        and counts.get(keys[person.id], 0) < limit
        and not _mailed_recently(settings, person, now)
    ]


def record_confirmations_sent(session: Session, people: Sequence[Subscriber], now: datetime) -> None:
    """Note the confirmation mails just sent, for the resend window and the hourly limit."""
    hasher = address_hasher(session)
    for person in people:
        person.last_mail_request_at = now
    store.throttle_add(session, [_address_key(hasher(person.email)) for person in people], now)


def _address_key(hashed_address: str) -> str:
    return f"addr:{hashed_address}"


def _throttled(session: Session, settings: Settings, email: str, client: Client, now: datetime) -> bool:
    hour_ago = now - timedelta(hours=1)
    keys = [_address_key(address_hash(session, email))]
    limits = [settings.signup.per_address_per_hour]
    if client.ip:
        keys.append(f"client:{address_hash(session, 'ip:' + client.ip)}")  # hashed: no IP is kept
        limits.append(settings.signup.per_client_per_hour)
    over = any(store.throttle_count(session, key, hour_ago) >= limit for key, limit in zip(keys, limits, strict=True))
    store.throttle_add(session, keys, now)
    store.throttle_purge(session, now - timedelta(days=1))
    return over


def _mailed_recently(settings: Settings, subscriber: Subscriber | None, now: datetime) -> bool:
    if subscriber is None or subscriber.last_mail_request_at is None:
        return False
    return now - subscriber.last_mail_request_at < timedelta(minutes=settings.signup.resend_window_minutes)


class _ClientFields(TypedDict, total=False):
    client_ip: str | None
    user_agent: str | None


def _client_fields(settings: Settings, client: Client) -> _ClientFields:
    if not settings.privacy.store_client_info:
        return {}
    return {"client_ip": client.ip, "user_agent": client.user_agent}


def _detail(topics: Collection[str], frequency: str) -> str:
    return f"topics: {', '.join(sorted(topics))}; frequency: {frequency}"

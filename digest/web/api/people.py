"""Sign-ups from the outlet's site (scope ``subscribers``), and one person's unsubscribe, export and
erasure (scope ``admin``). Each is recorded as done through the API by the token's name.

A sign-up answers the same whatever the address's state (new, pending, confirmed, unsubscribed,
erased): the API never tells whether someone subscribes. Only the mail sent to the address differs.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy.orm import Session

from digest.api_tokens.access import Caller
from digest.db.engine import session_scope
from digest.subscribers import signup, store
from digest.subscribers.models import Subscriber
from digest.subscribers.privacy import InvalidEmail, erase_subscriber, export_subscriber, normalise_email
from digest.web.api.auth import require_admin, require_subscribers
from digest.web.api.errors import ApiError
from digest.web.api.schemas import Accepted, SubscriberChange, SubscriptionRequest
from digest.web.common import send_quietly, signup_mail, state

log = logging.getLogger(__name__)
router = APIRouter()
Admin = Annotated[Caller, Depends(require_admin)]
Address = Annotated[str, Path(max_length=254, description="The subscriber's address.")]
ACCEPTED = (
    "If this address can receive mail, a message is on its way to it: a link to confirm the subscription, "
    "or to manage the one it already has. Nothing is sent to it until it is confirmed."
)


def _by_token(caller: Caller) -> str:
    return f"through the API by token {caller.name}"


@router.post("/subscriptions", status_code=202, response_model=Accepted, summary="Sign a reader up (double opt-in)")
def subscribe(
    request: Request, body: SubscriptionRequest, caller: Annotated[Caller, Depends(require_subscribers)]
) -> Accepted:
    web = state(request)
    policy = web.settings.privacy.policy_version
    if body.consent_version is not None and body.consent_version != policy:
        raise ApiError(422, f"consent_version '{body.consent_version}' is not the current privacy policy ({policy})")
    frequency = body.frequency or web.settings.signup.default_frequency
    note = f"{_by_token(caller)}; consent: {body.consent_text}"
    try:
        with session_scope(web.engine) as session:
            # No client: the caller is the outlet's server, not the reader; the token's own rate
            # limit stands in for the form's per-client limit.
            outcome = signup.request_subscription(
                session,
                web.settings,
                body.email,
                body.topics,
                frequency,
                web.ruleset.slugs,
                datetime.now(UTC),
                method="api",
                note=note,
            )
            message = signup_mail(web, outcome)
    except (InvalidEmail, signup.InvalidChoice) as exc:
        raise ApiError(422, str(exc)) from None
    if message is not None:
        send_quietly(web.settings, message)
    return Accepted(message=ACCEPTED)


def _find(session: Session, email: str) -> Subscriber:
    try:
        address = normalise_email(email)
    except InvalidEmail as exc:
        raise ApiError(422, str(exc)) from None
    subscriber = store.by_email(session, address)
    if subscriber is None:
        raise ApiError(404, "no subscriber has this address")
    return subscriber


@router.post("/subscribers/{email}/unsubscribe", response_model=SubscriberChange, summary="Stop all mail to a reader")
def unsubscribe(request: Request, email: Address, caller: Admin) -> SubscriberChange:
    web = state(request)
    with session_scope(web.engine) as session:
        subscriber = _find(session, email)
        signup.unsubscribe(session, subscriber, "api", datetime.now(UTC), detail=_by_token(caller))
        change = SubscriberChange(email=subscriber.email, status=subscriber.status)
    signup.wait_for_mail_in_flight(web.engine, subscriber.id, 2 * web.settings.delivery.smtp_timeout_seconds)
    return change


@router.get("/subscribers/{email}/export", summary="Everything stored about one reader")
def export(request: Request, email: Address, caller: Admin) -> dict[str, Any]:
    web = state(request)
    now = datetime.now(UTC)
    with session_scope(web.engine) as session:
        subscriber = _find(session, email)
        store.record_consent(
            session,
            subscriber,
            "exported",
            "api",
            now,
            policy_version=subscriber.policy_version,
            detail=_by_token(caller),
        )
        return export_subscriber(session, subscriber)


@router.delete(
    "/subscribers/{email}", response_model=SubscriberChange, summary="Erase a reader; keep only a salted hash"
)
def erase(request: Request, email: Address, caller: Admin) -> SubscriberChange:
    web = state(request)
    with session_scope(web.engine) as session:
        subscriber = _find(session, email)
        address = subscriber.email
        erase_subscriber(session, subscriber, datetime.now(UTC))
    # The person's consent log goes with them; the operator's log keeps who erased someone (not whom).
    log.info("a subscriber was erased %s", _by_token(caller))
    return SubscriberChange(email=address, status="erased")

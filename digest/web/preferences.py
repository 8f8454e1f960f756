"""The subscriber's own page, reached only through the signed link in every mail: topics, frequency,
new policy terms, export of their data, and erasure. Forms carry a signed CSRF token.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from digest.bounces.store import export_events
from digest.db.engine import session_scope
from digest.subscribers import signup
from digest.subscribers.models import Subscriber
from digest.subscribers.privacy import erase_subscriber, export_subscriber
from digest.subscribers.tokens import BadLink
from digest.web.common import NO_STORE, FormExpired, WebState, client_of, message_page, render, state, subscriber_from

router = APIRouter(prefix="/preferences/{token}")
CSRF_MAX_AGE = 24 * 3600


def _page(
    request: Request,
    web: WebState,
    token: str,
    subscriber: Subscriber,
    status: int = 200,
    *,
    saved: bool = False,
    error: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "preferences.html",
        status,
        email=subscriber.email,
        subscription_status=subscriber.status,
        topics=web.ruleset.topics,
        chosen=subscriber.topic_slugs,
        frequency=subscriber.frequency,
        base_path=f"/preferences/{token}",
        unsubscribe_path=f"/unsubscribe/{web.signer.make('unsubscribe', subscriber.link_key)}",
        csrf=web.signer.make("csrf", subscriber.link_key),
        policy_changed=signup.needs_policy_acceptance(web.settings, subscriber),
        agreed_version=subscriber.policy_version,
        policy_version=web.settings.privacy.policy_version,
        saved=saved,
        error=error,
    )


async def _checked_form(
    request: Request, web: WebState, session: Session, token: str
) -> tuple[Subscriber, dict[str, list[str]]]:
    """The subscriber and the posted form, after the CSRF token and the origin are checked."""
    subscriber = subscriber_from(session, web, "preferences", token)
    form = await request.form()
    origin = request.headers.get("origin")
    # Browsers send "null" under our no-referrer policy; a real origin must be ours.
    if origin and origin != "null" and origin.rstrip("/") != str(request.base_url).rstrip("/"):
        raise FormExpired()
    try:
        if web.signer.read("csrf", str(form.get("csrf", "")), CSRF_MAX_AGE) != subscriber.link_key:
            raise FormExpired()
    except BadLink:
        raise FormExpired() from None
    return subscriber, {key: [str(v) for v in form.getlist(key)] for key in form}


@router.get("", response_class=HTMLResponse)
def show(request: Request, token: str) -> HTMLResponse:
    web = state(request)
    with session_scope(web.engine) as session:
        subscriber = subscriber_from(session, web, "preferences", token)
        return _page(request, web, token, subscriber)


@router.post("", response_class=HTMLResponse)
async def save(request: Request, token: str) -> HTMLResponse:
    web = state(request)
    with session_scope(web.engine) as session:
        subscriber, form = await _checked_form(request, web, session, token)
        topics, frequency = form.get("topics", []), (form.get("frequency") or [""])[0]
        try:
            signup.update_preferences(
                session,
                web.settings,
                subscriber,
                topics,
                frequency,
                web.ruleset.slugs,
                datetime.now(UTC),
                client_of(request),
            )
        except signup.InvalidChoice as exc:
            return _page(request, web, token, subscriber, 400, error=str(exc))
        return _page(request, web, token, subscriber, saved=True)


@router.post("/accept-policy", response_class=HTMLResponse)
async def accept_policy(request: Request, token: str) -> HTMLResponse:
    web = state(request)
    with session_scope(web.engine) as session:
        subscriber, _form = await _checked_form(request, web, session, token)
        signup.accept_policy(session, web.settings, subscriber, datetime.now(UTC), client_of(request))
        return _page(request, web, token, subscriber, saved=True)


@router.get("/export")
def export(request: Request, token: str) -> Response:
    web = state(request)
    with session_scope(web.engine) as session:
        subscriber = subscriber_from(session, web, "preferences", token)
        data = {**export_subscriber(session, subscriber), "bounces": export_events(session, subscriber.id)}
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={**NO_STORE, "Content-Disposition": 'attachment; filename="my-digest-data.json"'},
    )


@router.get("/erase", response_class=HTMLResponse)
def erase_form(request: Request, token: str) -> HTMLResponse:
    web = state(request)
    with session_scope(web.engine) as session:
        subscriber = subscriber_from(session, web, "preferences", token)
        csrf = web.signer.make("csrf", subscriber.link_key)
    return render(request, "erase.html", base_path=f"/preferences/{token}", csrf=csrf)


@router.post("/erase", response_class=HTMLResponse)
async def erase(request: Request, token: str) -> HTMLResponse:
    web = state(request)
    with session_scope(web.engine) as session:
        subscriber, _form = await _checked_form(request, web, session, token)
        erase_subscriber(session, subscriber, datetime.now(UTC))
    return message_page(
        request,
        "Your data is erased",
        "We deleted your address, your choices and the record of what we sent you. We will not write to you again.",
    )

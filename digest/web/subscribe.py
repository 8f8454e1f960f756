"""Sign-up pages: the form, the request (same answer for every address), confirmation, the policy."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from digest.db.engine import session_scope
from digest.subscribers import signup
from digest.subscribers.links import links_for
from digest.subscribers.privacy import InvalidEmail
from digest.web.common import client_of, message_page, render, send_quietly, signup_mail, state, subscriber_from

router = APIRouter()


def _form(
    request: Request,
    status: int = 200,
    error: str | None = None,
    email: str = "",
    chosen: list[str] | None = None,
    frequency: str | None = None,
) -> HTMLResponse:
    web = state(request)
    return render(
        request,
        "subscribe.html",
        status,
        error=error,
        email=email,
        topics=web.ruleset.topics,
        chosen=chosen or [],
        frequency=frequency or web.settings.signup.default_frequency,
    )


@router.get("/", response_class=HTMLResponse)
def subscribe_form(request: Request) -> HTMLResponse:
    return _form(request)


@router.post("/subscribe", response_class=HTMLResponse)
async def subscribe(request: Request) -> HTMLResponse:
    web = state(request)
    form = await request.form()
    email = str(form.get("email", ""))[:400]
    topics = [str(t) for t in form.getlist("topics")]
    frequency = str(form.get("frequency", web.settings.signup.default_frequency))
    done = message_page(
        request,
        "Check your inbox",
        "If this address can receive mail, a message is on its way to it. Open it to confirm your "
        "subscription, or to manage the one you already have.",
        "Nothing is sent to you until you confirm.",
    )
    if form.get("website"):  # the honeypot: people never see this field
        return done
    now = datetime.now(UTC)
    try:
        with session_scope(web.engine) as session:
            outcome = signup.request_subscription(
                session, web.settings, email, topics, frequency, web.ruleset.slugs, now, client_of(request)
            )
            message = signup_mail(web, outcome)
    except (InvalidEmail, signup.InvalidChoice) as exc:
        return _form(request, 400, str(exc), email=email, chosen=topics, frequency=frequency)
    if message is not None:
        send_quietly(web.settings, message)
    return done


@router.get("/confirm/{token}", response_class=HTMLResponse)
def confirm(request: Request, token: str) -> HTMLResponse:
    web = state(request)
    now = datetime.now(UTC)
    with session_scope(web.engine) as session:
        max_age = web.settings.privacy.confirm_link_hours * 3600
        subscriber = subscriber_from(session, web, "confirm", token, max_age)
        if subscriber.status == "unsubscribed":
            return message_page(
                request,
                "This link is no longer valid",
                "This address was unsubscribed after the link was sent. To subscribe again, use the sign-up form.",
                status=410,
                link={"url": "/", "text": "Go to the sign-up form"},
            )
        signup.confirm(session, web.settings, subscriber, now, client_of(request))
        preferences = links_for(web.settings, web.signer, subscriber).preferences
    return message_page(
        request,
        "You are subscribed",
        "Thank you. Your first digest comes with the next edition.",
        link={"url": preferences, "text": "Change your topics or frequency"},
    )


@router.get("/privacy", response_class=HTMLResponse)
def privacy(request: Request) -> HTMLResponse:
    web = state(request)
    return render(
        request,
        "privacy.html",
        policy_version=web.settings.privacy.policy_version,
        stores_client_info=web.settings.privacy.store_client_info,
    )

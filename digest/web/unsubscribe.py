"""Unsubscribing, RFC 8058: a POST to the link unsubscribes at once (200, no redirect, no cookie);
a GET only shows a page with one button, because mail scanners follow links.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from digest.db.engine import session_scope
from digest.subscribers import signup
from digest.web.common import message_page, render, state, subscriber_from

router = APIRouter()


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: str) -> HTMLResponse:
    web = state(request)
    with session_scope(web.engine) as session:
        subscriber_from(session, web, "unsubscribe", token)  # a bad link gets its 4xx page here too
    return render(request, "unsubscribe.html", action=f"/unsubscribe/{token}")


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe(request: Request, token: str) -> HTMLResponse:
    # The body is "List-Unsubscribe=One-Click" from mail clients and from our own button; the POST to
    # this signed link is the request either way, so it is not required.
    web = state(request)
    with session_scope(web.engine) as session:
        subscriber = subscriber_from(session, web, "unsubscribe", token)
        signup.unsubscribe(session, subscriber, "one-click", datetime.now(UTC))
    # "Not even a digest already on its way" holds once a message being handed over is through.
    signup.wait_for_mail_in_flight(web.engine, subscriber.id, 2 * web.settings.delivery.smtp_timeout_seconds)
    return message_page(
        request,
        "You are unsubscribed",
        "No more mail of any kind will be sent to this address, not even a digest already on its way.",
        "Changed your mind? You can subscribe again at any time.",
        link={"url": "/", "text": "Go to the sign-up form"},
    )

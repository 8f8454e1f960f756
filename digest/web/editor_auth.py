"""Signing editors in and out: argon2-checked passwords, a signed session cookie, CSRF tokens.

The cookie carries the editor's session key, signed and time-limited; it is HttpOnly, SameSite=Strict,
scoped to /editor, and Secure whenever the service runs on https. Changing a password changes the
session key, which ends every session signed before. Every editor page calls ``require_editor``.

Sign-in throttling counts failed attempts only, per (name, client) pair, so a stranger guessing
cannot lock an editor out from the editor's own machine; a per-client and a global ceiling stop a
flood across many names. A refusal says when to try again.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from digest.db.engine import session_scope
from digest.editors import store as editors
from digest.editors.models import Editor
from digest.subscribers import store as throttle
from digest.subscribers.tokens import BadLink
from digest.web.common import FormExpired, WebState, render, state
from digest.web.editor_forms import Notice, forget_notice, format_when, take_notice

router = APIRouter(prefix="/editor")
COOKIE = "digest_editor"
SESSION_SECONDS = 12 * 3600
FAILURE_WINDOW = timedelta(minutes=15)
# Failed sign-ins counted within the window: per (name, client), per client, and in all.
FAILURES_PER_PAIR = 5
FAILURES_PER_CLIENT = 30
FAILURES_IN_ALL = 300


class NotSignedIn(Exception):
    """Answered with a redirect to the sign-in page (or 403 for a form post)."""


def current_editor(request: Request, session: Session) -> Editor | None:
    web = state(request)
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return None
    try:
        key = web.signer.read("session", cookie, SESSION_SECONDS)
    except BadLink:
        return None
    return editors.by_session_key(session, key)


def require_editor(request: Request, session: Session) -> Editor:
    editor = current_editor(request, session)
    if editor is None:
        raise NotSignedIn()
    return editor


def csrf_token(web: WebState, editor: Editor) -> str:
    return web.signer.make("editor-csrf", editor.session_key)


def render_console(
    request: Request,
    editor: Editor,
    section: str,
    *,
    notice: Notice | None = None,
    status: int = 200,
    template: str | None = None,
    **context: Any,
) -> HTMLResponse:
    """An editor page: the signed-in editor, the forms' CSRF token, the current section, and a notice
    (given, or carried here by a redirect and then forgotten); times are shown with ``when``."""
    carried = take_notice(request, editor)
    web = state(request)
    page = render(
        request,
        template or f"editor_{section}.html",
        status,
        editor=editor,
        csrf=csrf_token(web, editor),
        section=section,
        notice=notice or carried,
        when=partial(format_when, zone=web.settings.digest.timezone),
        **context,
    )
    if carried is not None:
        forget_notice(page)
    return page


def set_session_cookie(request: Request, response: Response, editor: Editor) -> None:
    web = state(request)
    response.set_cookie(
        COOKIE,
        web.signer.make("session", editor.session_key),
        max_age=SESSION_SECONDS,
        path="/editor",
        httponly=True,
        samesite="strict",
        secure=web.settings.base_url.startswith("https://"),
    )


async def checked_form(request: Request, session: Session) -> tuple[Editor, dict[str, str]]:
    """The signed-in editor and the posted form, once its CSRF token is checked."""
    editor = require_editor(request, session)
    form = await request.form()
    try:
        if state(request).signer.read("editor-csrf", str(form.get("csrf", "")), SESSION_SECONDS) != editor.session_key:
            raise FormExpired()
    except BadLink:
        raise FormExpired() from None
    return editor, {key: str(value) for key, value in form.items()}


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return render(request, "editor_login.html", error=None, username="")


@router.post("/login", response_model=None)
async def login(request: Request) -> Response:
    web = state(request)
    form = await request.form()
    username, password = str(form.get("username", ""))[:64].strip().lower(), str(form.get("password", ""))[:1024]
    now = datetime.now(UTC)
    keys = _failure_keys(request, username)
    with session_scope(web.engine) as session:
        refusal = _refusal(session, keys, now)
        if refusal is not None:
            return render(request, "editor_login.html", 429, error=refusal, username=username)
        editor = editors.check_login(session, username, password, now)
        if editor is None:
            throttle.throttle_add(session, keys.all, now)
            throttle.throttle_purge(session, now - timedelta(days=1))
            return render(request, "editor_login.html", 401, error="Wrong name or password.", username=username)
        response = RedirectResponse("/editor/", status_code=303)
        set_session_cookie(request, response, editor)
    return response


@router.post("/logout")
async def logout(request: Request) -> RedirectResponse:
    with session_scope(state(request).engine) as session:
        await checked_form(request, session)
    response = RedirectResponse("/editor/login", status_code=303)
    response.delete_cookie(COOKIE, path="/editor")
    return response


@dataclass(frozen=True, slots=True)
class _FailureKeys:
    pair: str
    client: str
    everyone: str = "login-fail-all"

    @property
    def all(self) -> list[str]:
        return [self.pair, self.client, self.everyone]


def _failure_keys(request: Request, username: str) -> _FailureKeys:
    client = request.client.host if request.client else "-"
    # Hashed: neither names tried nor client addresses are stored.
    return _FailureKeys(
        pair=f"login-fail:{_digest(username + chr(0) + client)}", client=f"login-fail-c:{_digest(client)}"
    )


def _refusal(session: Session, keys: _FailureKeys, now: datetime) -> str | None:
    """Why this attempt is refused and until when, or None when it may go ahead."""
    since = now - FAILURE_WINDOW
    limits = [
        (keys.pair, FAILURES_PER_PAIR, "Too many failed sign-ins with this name from this device."),
        (keys.client, FAILURES_PER_CLIENT, "Too many failed sign-ins from this device."),
        (keys.everyone, FAILURES_IN_ALL, "Too many failed sign-ins on this console just now."),
    ]
    for key, limit, reason in limits:
        if throttle.throttle_count(session, key, since) >= limit:
            oldest = throttle.throttle_oldest(session, key, since) or now
            # The refusal ends once the oldest counted failure leaves the window (rounded up to a minute).
            retry = (oldest + FAILURE_WINDOW + timedelta(seconds=59)).replace(second=0, microsecond=0)
            minutes = max(1, math.ceil((retry - now).total_seconds() / 60))
            return f"{reason} Try again in {minutes} minute{'s' if minutes != 1 else ''} (after {retry:%H:%M} UTC)."
    return None


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:40]

"""Signing editors in and out: argon2-checked passwords, a signed session cookie, CSRF tokens.

The cookie carries the editor's session key, signed and time-limited; it is HttpOnly, SameSite=Strict,
scoped to /editor, and Secure whenever the service runs on https. Changing a password changes the
session key, which ends every session signed before. Every editor page calls ``require_editor``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
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

router = APIRouter(prefix="/editor")
COOKIE = "digest_editor"
SESSION_SECONDS = 12 * 3600
LOGINS_PER_HOUR = 10


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


def render_console(request: Request, editor: Editor, section: str, **context: Any) -> HTMLResponse:
    """An editor page: the signed-in editor, the sign-out form's CSRF token, the current section."""
    return render(
        request,
        f"editor_{section}.html",
        editor=editor,
        csrf=csrf_token(state(request), editor),
        section=section,
        **context,
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
    with session_scope(web.engine) as session:
        if _too_many_attempts(session, request, username, now):
            return render(
                request,
                "editor_login.html",
                429,
                error="Too many attempts. Wait a while and try again.",
                username=username,
            )
        editor = editors.check_login(session, username, password, now)
        if editor is None:
            return render(request, "editor_login.html", 401, error="Wrong name or password.", username=username)
        cookie = web.signer.make("session", editor.session_key)
    response = RedirectResponse("/editor/", status_code=303)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=SESSION_SECONDS,
        path="/editor",
        httponly=True,
        samesite="strict",
        secure=web.settings.base_url.startswith("https://"),
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> RedirectResponse:
    with session_scope(state(request).engine) as session:
        await checked_form(request, session)
    response = RedirectResponse("/editor/login", status_code=303)
    response.delete_cookie(COOKIE, path="/editor")
    return response


def _too_many_attempts(session: Session, request: Request, username: str, now: datetime) -> bool:
    client = request.client.host if request.client else "-"
    keys = [f"login:{_digest(username)}", f"login-client:{_digest(client)}"]
    hour_ago = now - timedelta(hours=1)
    over = any(throttle.throttle_count(session, key, hour_ago) >= LOGINS_PER_HOUR for key in keys)
    throttle.throttle_add(session, keys, now)
    return over


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:40]

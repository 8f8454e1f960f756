"""The console's own account page: who is signed in, and changing one's own password.

A new password ends every other session of the account (its session key changes); the browser that
made the change gets a fresh session cookie and stays signed in.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from digest.db.engine import session_scope
from digest.editors import store as editors
from digest.editors.store import MIN_PASSWORD, EditorError
from digest.web.common import state
from digest.web.editor_auth import checked_form, render_console, require_editor, set_session_cookie
from digest.web.editor_forms import back, error, success

router = APIRouter(prefix="/editor")


@router.get("/account", response_class=HTMLResponse)
def account(request: Request) -> HTMLResponse:
    with session_scope(state(request).engine) as session:
        editor = require_editor(request, session)
        return render_console(request, editor, "account", min_password=MIN_PASSWORD)


@router.post("/account/password", response_model=None)
async def change_password(request: Request) -> Response:
    with session_scope(state(request).engine) as session:
        editor, form = await checked_form(request, session)
        current, new = form.get("current", "")[:1024], form.get("new", "")[:1024]
        problem = None
        if new != form.get("repeat", "")[:1024]:
            problem = "the new password and its repetition differ."
        else:
            try:
                editors.change_password(session, editor, current, new)
                editor.last_login_at = datetime.now(UTC)
            except EditorError as exc:
                problem = f"{exc}."
        about = f"the password of {editor.username}"
        if problem is not None:
            # Passwords are never sent back into the form.
            notice = error(problem, about)
            return render_console(request, editor, "account", notice=notice, status=400, min_password=MIN_PASSWORD)
        response = back(
            request, editor, "/editor/account", success("changed; every other session is signed out.", about)
        )
        set_session_cookie(request, response, editor)
        return response

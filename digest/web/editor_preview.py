"""The editor's digest preview: a subscriber's next digest (saying which edition, and whether they
already received the current one), or what a topic group gets in the current edition with the
editors' lead, notes and exclusions; its headers, its text part, and its HTML part in a sandboxed frame.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from digest.db.engine import session_scope
from digest.digests.preview import Preview, preview_for_choice, preview_message
from digest.subscribers.privacy import InvalidEmail, normalise_email
from digest.web.common import NO_STORE, WebState, state
from digest.web.editor_auth import render_console, require_editor

router = APIRouter(prefix="/editor")
HEADERS = (
    "From",
    "Reply-To",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
)
# The previewed mail is shown as the mail client would: no scripts, no forms, nothing remote.
FRAME_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox"


def _message(request: Request, web: WebState) -> tuple[Preview | None, str | None]:
    params = request.query_params
    now = datetime.now(UTC)
    if params.get("email"):
        try:
            email = normalise_email(params["email"])
        except InvalidEmail as exc:
            return None, str(exc)
        message = preview_message(web.engine, web.settings, web.ruleset, web.signer, email, now)
        return message, None if message else f"no subscriber has the address {email}"
    topics = [t for t in params.getlist("topics") if t in web.ruleset.slugs]
    if topics:
        frequency = params.get("frequency") if params.get("frequency") in ("daily", "weekly") else "weekly"
        return preview_for_choice(web.engine, web.settings, web.ruleset, topics, frequency or "weekly", now), None
    return None, None


@router.get("/preview", response_class=HTMLResponse)
def preview(request: Request) -> HTMLResponse:
    web = state(request)
    with session_scope(web.engine) as session:
        editor = require_editor(request, session)
    found, error = _message(request, web)
    message = found.message if found else None
    headers = [(name, str(message[name])) for name in HEADERS if message is not None and message[name]]
    text_part = message.get_body(("plain",)) if message is not None else None
    page = render_console(
        request,
        editor,
        "preview",
        error=error,
        found=found,
        headers=headers,
        text=str(text_part.get_content()) if text_part is not None else None,
        frame=f"/editor/preview/html?{request.url.query}" if message is not None else None,
        topics=web.ruleset.topics,
        params=request.query_params,
    )
    page.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'"
    )
    return page


@router.get("/preview/html", response_class=HTMLResponse)
def preview_html(request: Request) -> HTMLResponse:
    web = state(request)
    with session_scope(web.engine) as session:
        require_editor(request, session)
    found, error = _message(request, web)
    message = found.message if found else None
    html_part = message.get_body(("html",)) if message is not None else None
    body = str(html_part.get_content()) if html_part is not None else f"<p>{error or 'Nothing to show.'}</p>"
    return HTMLResponse(
        body, headers={**NO_STORE, "Content-Security-Policy": FRAME_POLICY, "X-Frame-Options": "SAMEORIGIN"}
    )

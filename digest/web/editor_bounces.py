"""The console's view of what came back: one bounce or complaint report at a time, as it arrived.

Reports contain addresses and sometimes the reader's own words, so they are shown one by one from a
subscriber's history (never listed in bulk), and only while ``bounces.keep_days`` keeps them.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from digest.bounces import store
from digest.db.engine import session_scope
from digest.web.common import state
from digest.web.editor_auth import render_console, require_editor

router = APIRouter(prefix="/editor")
MAX_SHOWN = 100_000  # characters of a report shown; the rest is cut


@router.get("/bounces/{event_id}", response_class=HTMLResponse)
def report(request: Request, event_id: int) -> HTMLResponse:
    web = state(request)
    with session_scope(web.engine) as session:
        editor = require_editor(request, session)
        event = store.event(session, event_id)
        text = event.original.decode("utf-8", "replace")[:MAX_SHOWN] if event and event.original else None
        return render_console(
            request,
            editor,
            "history",
            template="editor_bounce.html",
            event=event,
            text=text,
            keep_days=web.settings.bounces.keep_days,
            status=200 if event else 404,
        )

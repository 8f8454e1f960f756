"""The console's events: the recent events with their stories and why each joined, and the editors'
corrections: merge two events (or threads), take a story out of its event (or an event out of its
thread), and choose the report that leads an event in digests. Corrections are stored apart from the
automatic grouping and applied on top of every re-grouping, as with ``digest events merge|split``.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from digest.db.engine import session_scope
from digest.events import store
from digest.events.group import CorrectionRefused, correct, events_since
from digest.web.common import state
from digest.web.editor_auth import checked_form, render_console, require_editor
from digest.web.editor_forms import back, error, success

router = APIRouter(prefix="/editor")
DAYS = (1, 3, 7, 14, 30)
MAX_EVENTS = 100
DONE = {
    ("merge", "event"): "the event of story #{other} joined its event",
    ("merge", "thread"): "the thread of story #{other} joined its thread",
    ("split", "event"): "it now stands in an event of its own",
    ("split", "thread"): "its event now stands in a thread of its own",
    ("headline", "event"): "it now leads its event in digests",
}


@router.get("/events", response_class=HTMLResponse)
def events(request: Request) -> HTMLResponse:
    web = state(request)
    typed = request.query_params.get("days", "7")
    days = int(typed) if typed in {str(d) for d in DAYS} else 7
    with session_scope(web.engine, read_only=True) as session:
        editor = require_editor(request, session)
        found = events_since(session, datetime.now(UTC) - timedelta(days=days))
        chosen = store.headlines(session)
        threads = Counter(e.thread for e in found)
        rows = []
        for e in found[:MAX_EVENTS]:
            lead = max(e.stories, key=lambda s: chosen.get(s.id, 0))
            rows.append(
                {
                    "key": e.key,
                    "thread": e.thread,
                    "thread_events": threads[e.thread],
                    "lead": lead.id if lead.id in chosen else None,
                    "stories": e.stories,
                }
            )
        return render_console(
            request, editor, "events", rows=rows, total=len(found), days=days, day_choices=DAYS, shown=MAX_EVENTS
        )


@router.post("/events/correct", response_model=None)
async def correct_events(request: Request) -> Response:
    web = state(request)
    with session_scope(web.engine) as session:
        editor, form = await checked_form(request, session)
        target = form.get("back", "")
        target = target if target.startswith("/editor/events") else "/editor/events"
        kind, level = form.get("kind", ""), form.get("level", "event")
        if (kind, level) not in DONE:
            return back(request, editor, target, error("unknown correction", "events"))
        numbers = [form.get(name, "").strip().lstrip("#") for name in ("story", "other")]
        if not numbers[0].isdigit() or (kind == "merge" and not numbers[1].isdigit()):
            return back(request, editor, target, error("give the stories by their numbers (#12)", "events"))
        story, other = int(numbers[0]), int(numbers[1]) if kind == "merge" else None
        try:
            correct(session, kind, level, story, other, datetime.now(UTC))
        except CorrectionRefused as exc:
            return back(request, editor, target, error(str(exc), f"story #{story}"))
        return back(request, editor, target, success(DONE[kind, level].format(other=other), f"story #{story}"))

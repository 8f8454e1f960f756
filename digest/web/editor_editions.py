"""The console's edition desk: the editions and their state; one edition's stories per topic, with
exclude, include and lead buttons, the notes, approve and hold, its readers per topic group (each
with a preview), its deliveries, failures, bounces and complaints, and the audit list; and the
deliveries view, per edition and per subscriber (found by search, never listed in bulk), with the
sending health panel: bounce and complaint rates of the last editions against providers' thresholds.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from digest.bounces import store as bounce_store
from digest.bounces.health import BOUNCE_THRESHOLD, COMPLAINT_THRESHOLD, edition_counts, sending_health
from digest.db.engine import session_scope
from digest.digests import edition_store, review
from digest.digests.edition_view import edition_view, list_view
from digest.digests.editions import BadEditionName, parse_edition, short_name
from digest.digests.notes import BadNote
from digest.digests.select import load_by_ids
from digest.editors.models import Editor
from digest.subscribers import store as subscribers
from digest.subscribers.models import Subscriber
from digest.web.common import state
from digest.web.editor_auth import checked_form, render_console, require_editor
from digest.web.editor_forms import Notice, back, error, success

router = APIRouter(prefix="/editor")
ACTIONS = ("exclude", "include", "lead", "note", "approve", "hold")


def _back(request: Request, editor: Editor, key: str, notice: Notice) -> RedirectResponse:
    return back(request, editor, f"/editor/editions/{short_name(key)}", notice)


@router.get("/editions", response_class=HTMLResponse)
def editions(request: Request) -> HTMLResponse:
    web = state(request)
    with session_scope(web.engine) as session:
        editor = require_editor(request, session)
        rows = list_view(session, web.settings, datetime.now(UTC))
        return render_console(request, editor, "editions", rows=rows, review=web.settings.digest.review)


@router.get("/editions/{name}", response_class=HTMLResponse, response_model=None)
def edition(request: Request, name: str) -> Response:
    web = state(request)
    with session_scope(web.engine) as session:
        editor = require_editor(request, session)
        try:
            key = parse_edition(name)
        except BadEditionName:
            return back(request, editor, "/editor/editions", error(f"no such edition: {name[:40]}", "editions"))
        view = edition_view(session, web.settings, web.ruleset, key, datetime.now(UTC))
        came_back = edition_counts(session, [key])[key]
        return render_console(request, editor, "edition", view=view, topics=web.ruleset.topics, came_back=came_back)


@router.post("/editions/{name}/{action}", response_model=None)
async def decide(request: Request, name: str, action: str) -> Response:
    web = state(request)
    now = datetime.now(UTC)
    with session_scope(web.engine) as session:
        editor, form = await checked_form(request, session)
        try:
            key = parse_edition(name)
        except BadEditionName as exc:
            return back(request, editor, "/editor/editions", error(str(exc), "editions"))
        if action not in ACTIONS:
            return _back(request, editor, key, error(f"unknown action {action}", f"edition {short_name(key)}"))
        who = editor.username
        try:
            story = int(form.get("story", "0") or 0)
        except ValueError:
            return _back(request, editor, key, error("that is not a story number", f"edition {short_name(key)}"))
        try:
            # A savepoint: a refused decision leaves nothing half-made, and the editor is told why.
            with session.begin_nested():
                message = _apply(session, web.ruleset.slugs, key, action, story, form, who, now)
        except (review.EditionError, BadNote) as exc:
            return _back(request, editor, key, error(str(exc), f"edition {short_name(key)}"))
    return _back(request, editor, key, success(message, f"edition {short_name(key)}"))


def _apply(
    session: Session,
    slugs: tuple[str, ...],
    key: str,
    action: str,
    story: int,
    form: dict[str, str],
    who: str,
    now: datetime,
) -> str:
    if action == "exclude":
        keep = form.get("keep_for_next") == "on"
        review.exclude(session, key, story, who, now, keep_for_next=keep)
        return f"Story {story} excluded" + (" and kept for the next edition." if keep else ".")
    if action == "include":
        review.include(session, key, story, who, now)
        return f"Story {story} is in the edition again."
    if action == "lead":
        review.set_lead(session, key, story or None, who, now)
        return f"Story {story} is the lead." if story else "No lead story."
    if action == "note":
        topic = form.get("topic") or None
        review.set_note(session, key, topic, form.get("body", ""), who, now, list(slugs))
        return f"Note for {topic or 'the whole edition'} saved."
    edition = (review.approve if action == "approve" else review.hold)(session, key, who, now)
    if edition.state == "approved":
        return "Approved: the edition goes out at the next send or retry tick."
    return "Approved: sending goes on." if edition.state == "sending" else "Held: nothing more of it is sent."


@router.get("/deliveries", response_class=HTMLResponse)
def deliveries(request: Request) -> HTMLResponse:
    web = state(request)
    query = request.query_params.get("q", "").strip()[:200]
    with session_scope(web.engine) as session:
        editor = require_editor(request, session)
        rows = list_view(session, web.settings, datetime.now(UTC))
        failures = {row["key"]: edition_store.failures(session, row["key"], limit=20) for row in rows[:6]}
        # Only a search of 3 characters or more shows addresses, at most 20: never a bulk list.
        found = subscribers.search(session, query) if len(query) >= 3 else []
        return render_console(
            request,
            editor,
            "deliveries",
            rows=rows,
            failures=failures,
            query=query,
            found=found,
            person=None,
            came_back=edition_counts(session, [row["key"] for row in rows]),
            health=sending_health(session),
            thresholds={"bounces": BOUNCE_THRESHOLD, "complaints": COMPLAINT_THRESHOLD},
        )


@router.get("/deliveries/subscriber/{subscriber_id}", response_class=HTMLResponse)
def subscriber_history(request: Request, subscriber_id: int) -> HTMLResponse:
    web = state(request)
    with session_scope(web.engine) as session:
        editor = require_editor(request, session)
        person = session.get(Subscriber, subscriber_id)
        history = edition_store.history(session, subscriber_id) if person else []
        rows = [(d, [int(i) for i in json.loads(d.story_ids)]) for d in history]
        stories = load_by_ids(session, {i for _d, ids in rows for i in ids})
        titles = {i: c.title for i, c in stories.items()}
        came_back = bounce_store.events_of(session, subscriber_id) if person else []
        return render_console(request, editor, "history", person=person, rows=rows, titles=titles, came_back=came_back)

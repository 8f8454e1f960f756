"""The console's home and its topics page (stories and readers per topic, the tagger on pasted text).

Each other area has its own module: editor_feeds, editor_stories, editor_events, editor_subscribers,
editor_accounts and editor_preview; editor_forms holds what their forms share.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from digest.db.engine import session_scope
from digest.feeds import topic_store
from digest.subscribers import store as subscribers
from digest.tagging.tagger import tag_story
from digest.web.common import state
from digest.web.editor_auth import checked_form, render_console, require_editor

router = APIRouter(prefix="/editor")


@router.get("/", response_model=None)
def home(request: Request) -> Response:
    with session_scope(state(request).engine) as session:
        require_editor(request, session)
    return RedirectResponse("/editor/feeds", status_code=303)


@router.api_route("/topics", methods=["GET", "POST"], response_class=HTMLResponse)
async def topics(request: Request) -> HTMLResponse:
    web = state(request)
    trial = None
    with session_scope(web.engine) as session:
        if request.method == "POST":
            editor, form = await checked_form(request, session)
            title, summary = form.get("title", "")[:2000], form.get("summary", "")[:20000]
            trial = {"title": title, "summary": summary, "tagging": tag_story(web.ruleset, title, summary)}
        else:
            editor = require_editor(request, session)
        return render_console(
            request,
            editor,
            "topics",
            topics=web.ruleset.topics,
            story_counts=topic_store.count_by_topic(session),
            reader_counts=subscribers.count_by_topic(session),
            trial=trial,
        )

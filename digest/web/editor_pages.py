"""The editor console's pages for content: feeds (health, add, pause, poll now), stories (topics and
why, pin or remove a topic), topics (try the tagger, counts), subscribers (search, counts).
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from digest import __version__
from digest.db.engine import session_scope
from digest.feeds import store, story_store, topic_store
from digest.feeds.guard import check_feed_url
from digest.feeds.models import Story
from digest.feeds.refresh import poll_feeds
from digest.feeds.retag import edit_topics, parse_topic_changes
from digest.subscribers import store as subscribers
from digest.tagging.tagger import tag_story
from digest.web.common import state
from digest.web.editor_auth import checked_form, render_console, require_editor

router = APIRouter(prefix="/editor")


def _back(path: str, note: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?note={quote(note)}", status_code=303)


@router.get("/", response_model=None)
def home(request: Request) -> Response:
    with session_scope(state(request).engine) as session:
        require_editor(request, session)
    return RedirectResponse("/editor/feeds", status_code=303)


@router.get("/feeds", response_class=HTMLResponse)
def feeds(request: Request) -> HTMLResponse:
    web = state(request)
    with session_scope(web.engine) as session:
        editor = require_editor(request, session)
        rows = store.list_feeds(session)
        return render_console(
            request,
            editor,
            "feeds",
            rows=rows,
            note=request.query_params.get("note"),
        )


@router.post("/feeds", response_model=None)
async def add_feed(request: Request) -> Response:
    web = state(request)
    with session_scope(web.engine) as session:
        _editor, form = await checked_form(request, session)
        url = form.get("url", "").strip()
        # Resolving the host may wait on DNS: off the event loop.
        problem = await run_in_threadpool(check_feed_url, url, allow_private=web.settings.feeds.allow_private_networks)
        if problem:
            return _back("/editor/feeds", problem)
        try:
            store.add_feed(session, url, form.get("title") or None, datetime.now(UTC))
        except store.FeedExists:
            return _back("/editor/feeds", f"{url} is already added")
    return _back("/editor/feeds", f"Added {url}; it is polled at the next poll.")


@router.post("/feeds/{feed_id}/{action}", response_model=None)
async def feed_action(request: Request, feed_id: int, action: str) -> Response:
    web = state(request)
    if action not in ("pause", "resume", "poll"):
        return _back("/editor/feeds", f"unknown action {action}")
    with session_scope(web.engine) as session:
        await checked_form(request, session)
        if action != "poll":
            try:
                feed = store.set_paused(session, feed_id, action == "pause", datetime.now(UTC))
            except store.FeedNotFound:
                return _back("/editor/feeds", "no such feed")
            return _back("/editor/feeds", f"{'Paused' if action == 'pause' else 'Resumed'} {feed.url}")
    settings = web.settings
    # The poll runs its own event loop: off this one, in a worker thread.
    report = await run_in_threadpool(
        poll_feeds,
        web.engine,
        settings.feeds,
        settings.user_agent(__version__),
        web.ruleset,
        all_feeds=True,
        only=[feed_id],
    )
    if not report.outcomes:
        return _back("/editor/feeds", "That feed is paused, disabled or being polled right now.")
    outcome = report.outcomes[0]
    counts = f"{outcome.new} new, {outcome.updated} updated"
    if outcome.status in ("error", "gone"):
        detail = outcome.message or outcome.status
    else:
        detail = f"{counts}; {outcome.message}" if outcome.message else counts
    return _back("/editor/feeds", f"Polled {outcome.url}: {outcome.status} ({detail})")


@router.get("/stories", response_class=HTMLResponse)
def stories(request: Request) -> HTMLResponse:
    web = state(request)
    topic = request.query_params.get("topic") or None
    if topic not in (None, *web.ruleset.slugs):
        topic = None
    with session_scope(web.engine) as session:
        editor = require_editor(request, session)
        found = story_store.list_stories(session, limit=60, topic=topic)
        ids = [s.id for s in found]
        tags = topic_store.topics_of(session, ids)
        manual = topic_store.manual_decisions_of(session, ids)
        rows = [
            {
                "story": s,
                "sources": ", ".join(dict.fromkeys(src.feed.title or src.feed.url for src in s.sources)),
                "topics": tags.get(s.id, {}),
                "manual": manual.get(s.id, {}),
            }
            for s in found
        ]
        return render_console(
            request,
            editor,
            "stories",
            rows=rows,
            topics=web.ruleset.topics,
            current=topic,
            note=request.query_params.get("note"),
        )


@router.post("/stories/{story_id}/topics", response_model=None)
async def story_topics(request: Request, story_id: int) -> Response:
    web = state(request)
    with session_scope(web.engine) as session:
        _editor, form = await checked_form(request, session)
        story = session.get(Story, story_id)
        if story is None:
            return _back("/editor/stories", f"no story has id {story_id}")
        try:
            changes = parse_topic_changes(form.get("changes", "").split(), web.ruleset.slugs)
        except ValueError as exc:
            return _back("/editor/stories", str(exc))
        edit_topics(session, web.ruleset, story, changes, datetime.now(UTC))
    return _back("/editor/stories", f"Topics of story {story_id} changed.")


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
        story_counts = topic_store.count_by_topic(session)
        reader_counts = subscribers.count_by_topic(session)
        return render_console(
            request,
            editor,
            "topics",
            topics=web.ruleset.topics,
            story_counts=story_counts,
            reader_counts=reader_counts,
            trial=trial,
        )


@router.get("/subscribers", response_class=HTMLResponse)
def people(request: Request) -> HTMLResponse:
    web = state(request)
    query = request.query_params.get("q", "").strip()[:200]
    with session_scope(web.engine) as session:
        editor = require_editor(request, session)
        # A search shows at most 20 addresses, and only for 3 characters or more: no bulk listing.
        found = subscribers.search(session, query) if len(query) >= 3 else []
        return render_console(
            request,
            editor,
            "subscribers",
            by_status=subscribers.count_by_status(session),
            by_topic=subscribers.count_by_topic(session),
            topics=web.ruleset.topics,
            query=query,
            found=found,
        )

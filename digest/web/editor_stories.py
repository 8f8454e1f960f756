"""The console's stories: search by words in title and summary, filter by topic (or none), feed and
date range, a page at a time; each story's topics with the phrases behind them, and a choice per
topic: pinned on, pinned off, or by the rules. Editors' choices survive every retag, and a panel
proposes rule changes learned from them (digest.feeds.proposals), applied with one button.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from digest.db.engine import session_scope
from digest.failures import OperatorError
from digest.feeds import store, story_store, topic_store
from digest.feeds.models import Story
from digest.feeds.proposals import apply_stored_proposal, find_proposals, pick_proposal
from digest.feeds.retag import edit_topics
from digest.feeds.story_store import NO_TOPIC, StoryQuery
from digest.web.common import state
from digest.web.editor_auth import checked_form, render_console, require_editor
from digest.web.editor_forms import back, error, success

router = APIRouter(prefix="/editor")
PER_PAGE = 20
PROPOSALS_SHOWN = 5
CHOICES = {"pinned": "pinned on", "removed": "pinned off", "rules": "by the rules"}


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        return None


def _filters(request: Request, slugs: list[str], feed_ids: set[int]) -> tuple[dict[str, str], StoryQuery, list[str]]:
    """The filters as typed (for the form and the paging links), the query they make, and problems."""
    params = request.query_params
    typed = {key: params.get(key, "").strip()[:200] for key in ("q", "topic", "feed", "from", "to")}
    problems = []
    topic = typed["topic"] if typed["topic"] in (*slugs, NO_TOPIC) else None
    feed_id = int(typed["feed"]) if typed["feed"].isdigit() and int(typed["feed"]) in feed_ids else None
    zone = ZoneInfo(state(request).settings.digest.timezone)
    bounds: list[datetime | None] = []
    for key, label, extra in (("from", "from", 0), ("to", "to", 1)):
        day = _day(typed[key])
        if typed[key] and day is None:
            problems.append(f"'{typed[key]}' is not a date for '{label}': use YYYY-MM-DD")
        # Days are local days; "to" includes the whole of its day.
        bounds.append(datetime.combine(day + timedelta(days=extra), time(), zone).astimezone(UTC) if day else None)
    page = params.get("page", "1")
    number = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
    query = StoryQuery(
        words=typed["q"].split()[:10],
        topic=topic,
        feed_id=feed_id,
        since=bounds[0],
        until=bounds[1],
        offset=(number - 1) * PER_PAGE,
        limit=PER_PAGE,
    )
    return typed, query, problems


@router.get("/stories", response_class=HTMLResponse)
def stories(request: Request) -> HTMLResponse:
    web = state(request)
    # Only for a signed-in editor: working out proposals re-tags the stored stories (once, then from
    # the cache until a pin, a story or the rules change). It reads in its own read-only
    # transaction, outside the page's, so no write waits for it.
    with session_scope(web.engine, read_only=True) as session:
        require_editor(request, session)
    learned = find_proposals(web.engine, web.ruleset, limit=PROPOSALS_SHOWN, cache=web.proposals)
    with session_scope(web.engine) as session:
        editor = require_editor(request, session)
        feeds = [feed for feed, _n in store.list_feeds(session)]
        typed, query, problems = _filters(request, list(web.ruleset.slugs), {f.id for f in feeds})
        found, total = story_store.search_stories(session, query)
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
        number = query.offset // PER_PAGE + 1
        kept = {key: value for key, value in typed.items() if value}
        pages: dict[str, Any] = {
            "number": number,
            "count": max(1, -(-total // PER_PAGE)),
            "newer": f"/editor/stories?{urlencode({**kept, 'page': number - 1})}" if number > 1 else None,
            "older": f"/editor/stories?{urlencode({**kept, 'page': number + 1})}"
            if number * PER_PAGE < total
            else None,
        }
        notice = error("; ".join(problems), "the story filters") if problems else None
        return render_console(
            request,
            editor,
            "stories",
            notice=notice,
            rows=rows,
            total=total,
            pages=pages,
            topics=web.ruleset.topics,
            feeds=feeds,
            typed=typed,
            no_topic=NO_TOPIC,
            choices=CHOICES,
            learned=learned,
            back_to=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        )


@router.post("/stories/{story_id}/topics", response_model=None)
async def story_topics(request: Request, story_id: int) -> Response:
    web = state(request)
    with session_scope(web.engine) as session:
        editor, form = await checked_form(request, session)
        target = form.get("back", "")
        target = target if target.startswith("/editor/stories") else "/editor/stories"
        story = session.get(Story, story_id)
        if story is None:
            return back(request, editor, target, error(f"no story has id {story_id}", "changing topics"))
        about = f"story #{story.id} “{story.title[:80]}”"
        current = topic_store.manual_decisions(session, story_id)
        changes: list[tuple[str, str | None]] = []
        for slug in web.ruleset.slugs:
            choice = form.get(f"topic-{slug}", "")
            if choice not in CHOICES:
                continue  # a topic not in the form is left as it is
            wanted = None if choice == "rules" else choice
            if current.get(slug) != wanted:
                changes.append((slug, wanted))
        if not changes:
            return back(request, editor, target, success("nothing to change: its topics were already so.", about))
        edit_topics(session, web.ruleset, story, changes, datetime.now(UTC))
        carried = sorted(topic_store.topics_of(session, [story_id]).get(story_id, {}))
        text = f"topics saved; it now carries {', '.join(carried) if carried else 'no topic'}."
        return back(request, editor, target, success(text, about))


@router.post("/stories/proposals/{key}", response_model=None)
async def apply_proposal(request: Request, key: str) -> Response:
    web = state(request)
    with session_scope(web.engine) as session:
        editor, _form = await checked_form(request, session)
    try:
        proposal = await run_in_threadpool(pick_proposal, web.engine, web.ruleset, key, web.proposals)
        # Re-tagging every story takes a while: off the event loop.
        applied = await run_in_threadpool(
            apply_stored_proposal, web.engine, web.ruleset, proposal, datetime.now(UTC).date()
        )
    except OperatorError as exc:
        return back(request, editor, "/editor/stories", error(str(exc), "applying a proposal"))
    # Every page from now on tags with the rules as written.
    request.app.state.web = replace(web, ruleset=applied.ruleset)
    report = applied.report
    changed = f"; {report.changed} of {report.stories} stories changed" if report else ""
    text = f"applied to {web.ruleset.source}: {proposal.describe()}{changed}."
    return back(request, editor, "/editor/stories", success(text, f"proposal {proposal.key}"))

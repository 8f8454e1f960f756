"""The console's feeds: health at a glance, add (or find a site's feeds), edit, delete, pause or
resume, poll now, and OPML import and export.

The same feed is never added twice under another spelling of its address: the store compares
canonical addresses and the refusal names the feed already there.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from digest import __version__
from digest.db.engine import session_scope
from digest.editors.models import Editor
from digest.feeds import opml, store
from digest.feeds.discover import DiscoveryError, FoundFeed, discover_feeds
from digest.feeds.guard import check_feed_url
from digest.feeds.models import Feed
from digest.feeds.refresh import poll_feeds
from digest.web.common import NO_STORE, state
from digest.web.editor_auth import checked_form, render_console, require_editor
from digest.web.editor_forms import Notice, back, error, read_upload, success, whole_number

router = APIRouter(prefix="/editor")
MAX_OPML_BYTES = 2 * 1024 * 1024


def feed_name(feed: Feed) -> str:
    return f"feed {feed.title}" if feed.title else f"feed {feed.url}"


async def _address_problem(url: str, allow_private: bool) -> str | None:
    """What is wrong with a feed or site address an editor typed (every form checks here), or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"'{url}' is not a feed address: give a full http:// or https:// URL"
    # Resolving the host may wait on DNS: off the event loop.
    return await run_in_threadpool(check_feed_url, url, allow_private=allow_private)


def _page(
    request: Request,
    session: Session,
    editor: Editor,
    *,
    notice: Notice | None = None,
    status: int = 200,
    typed: dict[str, str] | None = None,
    found: list[FoundFeed] | None = None,
) -> HTMLResponse:
    return render_console(
        request,
        editor,
        "feeds",
        notice=notice,
        status=status,
        rows=store.list_feeds(session),
        typed=typed or {},
        found=found,
        default_interval=state(request).settings.feeds.default_interval_minutes,
    )


@router.get("/feeds", response_class=HTMLResponse)
def feeds(request: Request) -> HTMLResponse:
    with session_scope(state(request).engine) as session:
        return _page(request, session, require_editor(request, session))


@router.post("/feeds", response_model=None)
async def add_feed(request: Request) -> Response:
    with session_scope(state(request).engine) as session:
        editor, form = await checked_form(request, session)
        url, title = form.get("url", "").strip(), form.get("title", "").strip()
        problem = await _address_problem(url, state(request).settings.feeds.allow_private_networks)
        if problem is None:
            try:
                feed = store.add_feed(session, url, title or None, datetime.now(UTC))
            except store.FeedExists as exc:
                problem = f"{exc.describe()}."
        if problem is not None:
            typed = {"url": url, "title": title}
            return _page(request, session, editor, notice=error(problem, "adding a feed"), status=400, typed=typed)
        return back(request, editor, "/editor/feeds", success("added; it is polled at the next poll.", feed_name(feed)))


@router.post("/feeds/discover", response_model=None)
async def discover(request: Request) -> Response:
    web = state(request)
    with session_scope(web.engine) as session:
        editor, form = await checked_form(request, session)
    site = form.get("site", "").strip()
    typed = {"site": site}
    problem = await _address_problem(site, web.settings.feeds.allow_private_networks)
    found: list[FoundFeed] = []
    if problem is None:
        try:
            found = await run_in_threadpool(
                discover_feeds, site, web.settings.feeds, web.settings.user_agent(__version__)
            )
        except DiscoveryError as exc:
            problem = str(exc)
        else:
            if not found:
                problem = f'{site} announces no RSS or Atom feed (no <link rel="alternate"> to one)'
    with session_scope(web.engine) as session:
        if problem is not None:
            return _page(request, session, editor, notice=error(problem, "finding feeds"), status=400, typed=typed)
        text = f"found {len(found)} feed{'s' if len(found) != 1 else ''} on {site}; add the one you want below."
        return _page(request, session, editor, notice=success(text, "finding feeds"), typed=typed, found=found)


@router.get("/feeds/{feed_id}/edit", response_class=HTMLResponse)
def edit_form(request: Request, feed_id: int) -> Response:
    with session_scope(state(request).engine) as session:
        editor = require_editor(request, session)
        try:
            feed = store.feed_by_id(session, feed_id)
        except store.FeedNotFound:
            return back(request, editor, "/editor/feeds", error(f"no feed has id {feed_id}", "editing a feed"))
        return _edit_page(request, editor, session, feed)


def _edit_page(
    request: Request,
    editor: Editor,
    session: Session,
    feed: Feed,
    *,
    notice: Notice | None = None,
    status: int = 200,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    stories = dict((f.id, n) for f, n in store.list_feeds(session)).get(feed.id, 0)
    values: dict[str, Any] = {
        "url": feed.url,
        "title": feed.title or "",
        "interval": str(feed.interval_minutes or ""),
        **(typed or {}),
    }
    return render_console(
        request,
        editor,
        "feeds",
        template="editor_feed_edit.html",
        notice=notice,
        status=status,
        feed=feed,
        stories=stories,
        values=values,
        default_interval=state(request).settings.feeds.default_interval_minutes,
    )


@router.post("/feeds/{feed_id}/edit", response_model=None)
async def edit_feed(request: Request, feed_id: int) -> Response:
    with session_scope(state(request).engine) as session:
        editor, form = await checked_form(request, session)
        try:
            feed = store.feed_by_id(session, feed_id)
        except store.FeedNotFound:
            return back(request, editor, "/editor/feeds", error(f"no feed has id {feed_id}", "editing a feed"))
        typed = {key: form.get(key, "").strip() for key in ("url", "title", "interval")}
        interval = whole_number(typed["interval"], 1, 7 * 24 * 60) if typed["interval"] else None
        problem = await _address_problem(typed["url"], state(request).settings.feeds.allow_private_networks)
        if problem is None and typed["interval"] and interval is None:
            problem = f"the interval is a number of minutes from 1 to 10080, not '{typed['interval']}'"
        if problem is None:
            try:
                store.update_feed(
                    session,
                    feed_id,
                    url=typed["url"],
                    title=typed["title"] or None,
                    interval_minutes=interval,
                    now=datetime.now(UTC),
                )
            except store.FeedExists as exc:
                problem = f"{exc.describe()}."
        if problem is not None:
            notice = error(problem, feed_name(feed))
            return _edit_page(request, editor, session, feed, notice=notice, status=400, typed=typed)
        return back(request, editor, "/editor/feeds", success("saved.", feed_name(feed)))


@router.post("/feeds/{feed_id}/delete", response_model=None)
async def delete_feed(request: Request, feed_id: int) -> Response:
    with session_scope(state(request).engine) as session:
        editor, _form = await checked_form(request, session)
        try:
            feed, stories = store.delete_feed(session, feed_id)
        except store.FeedNotFound:
            return back(request, editor, "/editor/feeds", error(f"no feed has id {feed_id}", "deleting a feed"))
        kept = f"its {stories} stor{'y stays' if stories == 1 else 'ies stay'} in the stories list and in digests."
        return back(request, editor, "/editor/feeds", success(f"deleted; {kept}", feed_name(feed)))


@router.get("/feeds/export")
def export_opml(request: Request) -> Response:
    with session_scope(state(request).engine) as session:
        require_editor(request, session)
        document = opml.write_opml([feed for feed, _n in store.list_feeds(session)], datetime.now(UTC))
    return Response(
        document,
        media_type="text/x-opml; charset=utf-8",
        headers={**NO_STORE, "Content-Disposition": 'attachment; filename="digest-feeds.opml"'},
    )


@router.post("/feeds/import", response_model=None)
async def import_opml(request: Request) -> Response:
    with session_scope(state(request).engine) as session:
        editor, _form = await checked_form(request, session)
        document = await read_upload(request, "file", MAX_OPML_BYTES)
        try:
            if len(document) > MAX_OPML_BYTES:
                raise opml.OpmlError(f"the file is larger than {MAX_OPML_BYTES // (1024 * 1024)} MiB")
            listed = opml.read_opml(document)
        except opml.OpmlError as exc:
            return _page(request, session, editor, notice=error(str(exc), "importing OPML"), status=400)
        report = opml.import_feeds(session, listed, datetime.now(UTC))
        lines = [*report.existing, *report.bad]
        text = f"added {len(report.added)}, already there {len(report.existing)}, unusable {len(report.bad)}."
        if lines:
            more = f"; and {len(lines) - 5} more" if len(lines) > 5 else ""
            text += " " + "; ".join(lines[:5]) + more
        return back(request, editor, "/editor/feeds", success(text, "importing OPML"))


@router.post("/feeds/{feed_id}/{action}", response_model=None)
async def feed_action(request: Request, feed_id: int, action: str) -> Response:
    web = state(request)
    with session_scope(web.engine) as session:
        editor, _form = await checked_form(request, session)
        if action not in ("pause", "resume", "poll"):
            return back(request, editor, "/editor/feeds", error(f"unknown action {action}", "a feed"))
        try:
            feed = store.feed_by_id(session, feed_id)
            if action != "poll":
                store.set_paused(session, feed_id, action == "pause", datetime.now(UTC))
                done = "paused: it is not polled until you resume it." if action == "pause" else "resumed."
                return back(request, editor, "/editor/feeds", success(done, feed_name(feed)))
        except store.FeedNotFound:
            return back(request, editor, "/editor/feeds", error(f"no feed has id {feed_id}", "a feed"))
        about = feed_name(feed)
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
        return back(request, editor, "/editor/feeds", error("paused, disabled or being polled right now.", about))
    outcome = report.outcomes[0]
    if outcome.status in ("error", "gone"):
        notice = error(f"the poll failed: {outcome.message or outcome.status}", about)
    else:
        counts = f"{outcome.new} new, {outcome.updated} updated"
        detail = f"{counts}; {outcome.message}" if outcome.message else counts
        notice = success(f"polled: {outcome.status} ({detail})", about)
    return back(request, editor, "/editor/feeds", notice)

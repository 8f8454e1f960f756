"""The public archive: /archive/ lists the sent editions, /archive/<edition>/<topics> is the web copy
of one (the "View in the browser" link of every mail), /archive/<topic>.atom a feed per topic.

Nothing here knows a reader: pages are built from the edition's record and the stories, so no
address, token or personal link can appear. With ``archive.enabled = false`` every address is 404.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from digest.db.engine import session_scope
from digest.digests import archive
from digest.digests.archive_paths import NotInArchive, feed_path, parse_page
from digest.web.common import render, state

router = APIRouter()

# The web copy is the mail itself: its styles are inline (mail clients read nothing else), so this
# page allows inline styles and still nothing else: no script, no image, no form.
COPY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'none'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
CACHE = {"Cache-Control": "public, max-age=300"}


def _enabled(request: Request) -> None:
    if not state(request).settings.archive.enabled:
        raise HTTPException(404)


@router.get("/archive/", response_class=HTMLResponse)
def archive_index(request: Request) -> HTMLResponse:
    _enabled(request)
    web = state(request)
    with session_scope(web.engine, read_only=True) as session:
        editions = archive.archive_index(session, web.settings, web.ruleset)
    feeds = [{"name": t.name, "path": feed_path(t.slug)} for t in web.ruleset.topics]
    response = render(request, "archive.html", editions=editions, feeds=feeds)
    response.headers.update(CACHE)
    return response


@router.get("/archive/{topic}.atom")
def topic_feed(request: Request, topic: str) -> Response:
    _enabled(request)
    web = state(request)
    if topic not in web.ruleset.slugs:
        raise HTTPException(404)
    with session_scope(web.engine, read_only=True) as session:
        body = archive.topic_feed(session, web.settings, web.ruleset, topic)
    return Response(body, media_type="application/atom+xml; charset=utf-8", headers=CACHE)


@router.get("/archive/{edition}/{group}", response_class=HTMLResponse)
def edition_copy(request: Request, edition: str, group: str) -> HTMLResponse:
    _enabled(request)
    web = state(request)
    try:
        key, topics = parse_page(edition, group, web.ruleset.group_order)
    except NotInArchive:
        raise HTTPException(404) from None
    with session_scope(web.engine, read_only=True) as session:
        page = archive.edition_page(session, web.settings, web.ruleset, key, topics)
    if page is None:
        raise HTTPException(404)
    headers = {"Content-Security-Policy": COPY_POLICY, "Referrer-Policy": "no-referrer"} | CACHE
    return HTMLResponse(page.rendered.html, headers=headers)

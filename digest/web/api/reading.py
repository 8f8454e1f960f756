"""What the outlet's site reads (scope ``read``): topics, stories with topics and events, feeds with
their health, an edition's delivery counts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from digest.api_tokens.access import Caller
from digest.db.base import iso
from digest.db.engine import session_scope
from digest.digests import edition_store
from digest.events import store as event_store
from digest.feeds import store as feed_store
from digest.feeds import story_store, topic_store
from digest.feeds.models import Story
from digest.feeds.views import feed_json, story_json
from digest.mail.models import DELIVERY_STATES
from digest.web.api.auth import require_read
from digest.web.api.cursor import BadCursor, make_cursor, read_cursor
from digest.web.api.errors import ApiError
from digest.web.api.schemas import EditionOut, EventOut, FeedOut, StoriesPage, StoryOut, TopicOut
from digest.web.common import state

router = APIRouter()
Reader = Annotated[Caller, Depends(require_read)]


@router.get("/topics", response_model=list[TopicOut], summary="The topics readers can choose")
def topics(request: Request, caller: Reader) -> list[TopicOut]:
    web = state(request)
    with session_scope(web.engine, read_only=True) as session:
        counts = topic_store.count_by_topic(session)
    return [
        TopicOut(slug=t.slug, name=t.name, description=t.description, stories=counts.get(t.slug, 0))
        for t in web.ruleset.topics
    ]


@router.get("/stories", response_model=StoriesPage, summary="Stories, newest first, a page at a time")
def stories(
    request: Request,
    caller: Reader,
    topic: Annotated[str | None, Query(max_length=64, description="Only stories carrying this topic.")] = None,
    since: Annotated[
        str | None,
        Query(
            max_length=40,
            description="Only stories published at or after this time (ISO 8601 with a zone).",
            examples=["2026-12-01T00:00:00Z"],
            json_schema_extra={"format": "date-time"},
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page.")] = None,
) -> StoriesPage:
    web = state(request)
    if topic is not None and topic not in web.ruleset.slugs:
        raise ApiError(422, f"unknown topic '{topic}': the topics are {', '.join(web.ruleset.slugs)}")
    after = _time(since) if since is not None else None
    try:
        before = read_cursor(cursor) if cursor else None
    except BadCursor as exc:
        raise ApiError(422, str(exc)) from None
    with session_scope(web.engine, read_only=True) as session:
        found = story_store.stories_page(session, limit=limit, topic=topic, since=after, before=before)
        ids = [s.id for s in found]
        tags = topic_store.topics_of(session, ids)
        groups = event_store.memberships(session, ids)
        rows = []
        for story in found:
            group = groups.get(story.id)
            event = EventOut(event=group.event, thread=group.thread) if group else None
            rows.append(
                StoryOut.model_validate(
                    {**story_json(story, tags.get(story.id, {}), web.ruleset.slugs, _sources(story)), "event": event}
                )
            )
    last = found[-1] if len(found) == limit else None
    return StoriesPage(stories=rows, next_cursor=make_cursor(last.published_at, last.id) if last else None)


def _sources(story: Story) -> list[dict[str, str | None]]:
    return [
        {"feed_url": s.feed.url, "feed_title": s.feed.title, "guid": s.guid, "link": s.link}
        for s in sorted(story.sources, key=lambda s: s.id)
    ]


def _time(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(422, f"query.since: '{text}' is not a time: use ISO 8601, like 2026-12-01T00:00:00Z") from None
    if when.tzinfo is None:
        raise ApiError(422, "query.since: the time needs a zone, like 2026-12-01T00:00:00Z")
    return when


@router.get("/feeds", response_model=list[FeedOut], summary="The feeds polled, with their health")
def feeds(request: Request, caller: Reader) -> list[FeedOut]:
    web = state(request)
    with session_scope(web.engine, read_only=True) as session:
        return [
            FeedOut.model_validate({"id": feed.id, **feed_json(feed, n), "last_success": iso(feed.last_success_at)})
            for feed, n in feed_store.list_feeds(session)
        ]


@router.get("/editions/{edition}", response_model=EditionOut, summary="An edition's state and delivery counts")
def edition(request: Request, caller: Reader, edition: str) -> EditionOut:
    web = state(request)
    with session_scope(web.engine, read_only=True) as session:
        found = edition_store.by_key(session, edition)
        if found is None:
            raise ApiError(404, f"no edition '{edition}': editions are named like daily:2026-12-01 or weekly:2026-W49")
        counts = edition_store.delivery_counts(session, edition)
        deliveries = {s: counts.get(s, 0) for s in DELIVERY_STATES}
    return EditionOut(
        edition=found.key,
        frequency=found.frequency,
        state=found.state,
        deliveries=deliveries,
        total=sum(deliveries.values()),
    )

"""The console's events over real HTTP: events with their reports, and merges and splits that survive
grouping everything again."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from digest.db.engine import session_scope
from digest.events.group import events_since, group_new_stories, regroup_window
from digest.feeds import story_store
from digest.tagging.rules import Ruleset
from tests.digests.helpers import ingest, rss
from tests.digests.test_events_in_digest import OUTLETS
from tests.web.conftest import csrf, notice

NOW = datetime.now(UTC)


def setup_events(engine: Engine, ruleset: Ruleset) -> dict[str, int]:
    """The three outlets' reports of one arrest and another event, stored and grouped; link -> id."""
    stories = [*OUTLETS.items(), ("Law Desk", ("https://law.example/x", "Regulator fines deepfake nudify app", ""))]
    for hour, (outlet, (link, title, summary)) in enumerate(stories):
        at = NOW - timedelta(hours=10 - hour)
        ingest(engine, ruleset, rss((title, link, summary)), at, f"https://{hour}.example/rss", outlet)
    with session_scope(engine) as s:
        group_new_stories(s, NOW)
        return {st.link or "": st.id for st in story_store.list_stories(s, limit=100)}


def event_sizes(engine: Engine) -> list[int]:
    with session_scope(engine) as s:
        return sorted(len(e.stories) for e in events_since(s, NOW - timedelta(days=2)))


def post(client: TestClient, page: str, **fields: object) -> str:
    answer = client.post("/editor/events/correct", data={"csrf": csrf(page), "back": "/editor/events", **fields})
    assert answer.status_code == 303 and answer.headers["location"] == "/editor/events"
    return notice(client.get("/editor/events").text)


def test_editors_split_and_merge_events_and_regrouping_keeps_it(
    editor_client: TestClient, engine: Engine, ruleset: Ruleset
) -> None:
    ids = setup_events(engine, ruleset)
    page = editor_client.get("/editor/events").text
    assert "2 events" in page and "3 reports" in page
    # Each joined report says why: the story it matched and the names they share.
    assert re.search(r"same event as #\S+ \([\d.]+\): names [^<]*hung", page, re.I)

    asia, wire, law = ids["https://asia.example/hung-hom"], ids["https://wire.example/hk"], ids["https://law.example/x"]
    assert post(editor_client, page, kind="split", level="event", story=asia) == (
        f"success: Done: story #{asia} It now stands in an event of its own"
    )
    assert event_sizes(engine) == [1, 1, 2]
    assert post(editor_client, page, kind="merge", level="event", story=wire, other=law) == (
        f"success: Done: story #{wire} The event of story #{law} joined its event"
    )
    assert event_sizes(engine) == [1, 3]

    # Grouping the whole window again from scratch keeps both corrections.
    with session_scope(engine) as s:
        regroup_window(s, NOW)
    assert event_sizes(engine) == [1, 3]
    page = editor_client.get("/editor/events").text
    assert "2 events" in page

    assert post(editor_client, page, kind="merge", level="event", story=wire, other="#999999") == (
        f"error: Not done: story #{wire} No story has id 999999"
    )
    assert post(editor_client, page, kind="split", level="event", story="twelve").startswith("error: ")
    refused = editor_client.post("/editor/events/correct", data={"csrf": "forged", "kind": "split", "story": asia})
    assert refused.status_code != 303 and event_sizes(engine) == [1, 3]


def test_an_anonymous_visitor_sees_no_events(client: TestClient) -> None:
    assert client.get("/editor/events").status_code in (303, 401, 403)
    assert client.post("/editor/events/correct", data={"kind": "split", "story": "1"}).status_code in (303, 401, 403)

"""What the outlet's site reads: topics, stories a page at a time (with topics, why, sources and
events), feeds with their health, and an edition's delivery counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from digest.db.engine import session_scope
from digest.digests import edition_store
from digest.events import store as event_store
from digest.events.grouping import Assignment
from digest.feeds import store as feed_store
from digest.feeds.story_store import list_stories
from digest.mail.models import Delivery
from digest.subscribers import store
from digest.tagging.rules import Ruleset
from digest.web.api.cursor import make_cursor
from tests.digests.helpers import ingest, rss
from tests.web.api.conftest import bearer

START = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
DEEPFAKE = ("Court fines deepfake app maker", "https://news.example/deepfake-{n}", "A deepfake nude app was fined.")
OTHER = ("City council approves budget", "https://news.example/budget-{n}", "The council met on Tuesday.")


def newsroom(engine: Engine, ruleset: Ruleset) -> list[int]:
    """Seven stories over three polls (the newest first in the returned ids); two share an event."""
    for poll in range(3):
        items = [
            (title, link.format(n=f"{poll}-{i}"), summary)
            for i, (title, link, summary) in enumerate([DEEPFAKE, OTHER, DEEPFAKE][: 3 if poll < 2 else 1])
        ]
        ingest(engine, ruleset, rss(*items), START + timedelta(hours=poll))
    with session_scope(engine) as session:
        ids = [s.id for s in list_stories(session, limit=100)]
        event_store.save_assignments(
            session, [Assignment(str(ids[-1]), "e1", "t1"), Assignment(str(ids[-3]), "e1", "t1")], START
        )
    return ids


def pages(client: TestClient, token: str, **params: object) -> list[list[dict[str, object]]]:
    found, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        answer = client.get("/api/stories", params=query, headers=bearer(token))
        assert answer.status_code == 200, answer.text
        found.append(answer.json()["stories"])
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return found


def test_stories_come_a_page_at_a_time_newest_first_without_repeats(
    client: TestClient, engine: Engine, ruleset: Ruleset, tokens: dict[str, str]
) -> None:
    ids = newsroom(engine, ruleset)
    assert len(ids) == 7
    got = pages(client, tokens["read"], limit=3)
    assert [len(page) for page in got] == [3, 3, 1]
    assert [s["id"] for page in got for s in page] == ids
    # A story arriving between two pages does not push one already seen onto the next page.
    first = client.get("/api/stories", params={"limit": 3}, headers=bearer(tokens["read"])).json()
    ingest(engine, ruleset, rss(("Late news", "https://news.example/late", "Nothing.")), START + timedelta(days=1))
    second = client.get(
        "/api/stories", params={"limit": 3, "cursor": first["next_cursor"]}, headers=bearer(tokens["read"])
    ).json()
    assert [s["id"] for s in first["stories"] + second["stories"]] == ids[:6]


def test_a_story_carries_topics_why_sources_and_its_event(
    client: TestClient, engine: Engine, ruleset: Ruleset, tokens: dict[str, str]
) -> None:
    ids = newsroom(engine, ruleset)
    stories = {s["id"]: s for page in pages(client, tokens["read"]) for s in page}
    oldest = stories[ids[-1]]
    assert "deepfakes" in oldest["topics"] and oldest["why"]["deepfakes"]
    assert oldest["sources"] == [
        {"feed_url": "https://wire.example/rss", "feed_title": "Wire", "guid": oldest["link"], "link": oldest["link"]}
    ]
    assert oldest["event"] == {"event": "e1", "thread": "t1"} == stories[ids[-3]]["event"]
    assert stories[ids[-2]]["event"] is None and stories[ids[-2]]["topics"] == []


def test_topic_and_since_filter_the_stories(
    client: TestClient, engine: Engine, ruleset: Ruleset, tokens: dict[str, str]
) -> None:
    newsroom(engine, ruleset)
    deepfakes = [s for page in pages(client, tokens["read"], topic="deepfakes", limit=2) for s in page]
    assert len(deepfakes) == 5 and all("deepfakes" in s["topics"] for s in deepfakes)
    since = (START + timedelta(hours=1)).isoformat()
    recent = [s for page in pages(client, tokens["read"], since=since) for s in page]
    assert len(recent) == 4 and all(s["published"] >= since for s in recent)


def test_bad_story_queries_are_explained(client: TestClient, tokens: dict[str, str]) -> None:
    for params, said in [
        ({"topic": "crypto"}, "unknown topic 'crypto': the topics are ai-misuse"),
        ({"cursor": "bm9wZQ"}, "the cursor is not one this API gave out"),
        ({"since": "2026-12-01T00:00:00"}, "query.since: the time needs a zone"),
        ({"since": "0.5"}, "query.since: '0.5' is not a time"),
        ({"since": "yesterday"}, "query.since: "),
        ({"limit": 0}, "query.limit: Input should be greater than or equal to 1"),
        ({"limit": 201}, "query.limit: Input should be less than or equal to 200"),
    ]:
        answer = client.get("/api/stories", params=params, headers=bearer(tokens["read"]))
        assert answer.status_code == 422 and said in answer.json()["error"], (params, answer.text)
    # A cursor that was given out, for a position past every story: an empty last page.
    answer = client.get("/api/stories", params={"cursor": make_cursor(START, 1)}, headers=bearer(tokens["read"]))
    assert answer.json() == {"stories": [], "next_cursor": None}


def test_topics_with_their_story_counts(
    client: TestClient, engine: Engine, ruleset: Ruleset, tokens: dict[str, str]
) -> None:
    newsroom(engine, ruleset)
    topics = client.get("/api/topics", headers=bearer(tokens["read"])).json()
    assert [t["slug"] for t in topics] == list(ruleset.slugs)
    counts = {t["slug"]: t["stories"] for t in topics}
    assert counts["deepfakes"] == 5 and counts["child-protection"] == 0
    assert all(t["name"] and t["description"] for t in topics)


def test_feeds_with_their_health(client: TestClient, engine: Engine, ruleset: Ruleset, tokens: dict[str, str]) -> None:
    newsroom(engine, ruleset)
    with session_scope(engine) as session:
        broken = feed_store.add_feed(session, "https://broken.example/rss", None, START)
        broken.status, broken.error_count, broken.last_error = "error", 3, "timed out"
    feeds = {f["url"]: f for f in client.get("/api/feeds", headers=bearer(tokens["read"])).json()}
    assert feeds["https://wire.example/rss"]["stories"] == 7
    assert {k: feeds["https://broken.example/rss"][k] for k in ("status", "error_count", "last_error", "stories")} == {
        "status": "error",
        "error_count": 3,
        "last_error": "timed out",
        "stories": 0,
    }


def test_an_editions_delivery_counts(client: TestClient, engine: Engine, tokens: dict[str, str]) -> None:
    with session_scope(engine) as session:
        edition_store.open_edition(session, "daily:2026-12-01", START)
        for n, state in enumerate(["sent", "sent", "failed", "queued"]):
            person = store.create(session, f"r{n}@example.org", "daily", START)
            session.add(Delivery(subscriber_id=person.id, edition="daily:2026-12-01", state=state, window_end=START))
    answer = client.get("/api/editions/daily:2026-12-01", headers=bearer(tokens["read"]))
    assert answer.status_code == 200
    data = answer.json()
    assert (data["edition"], data["frequency"], data["state"], data["total"]) == (
        "daily:2026-12-01",
        "daily",
        "planned",
        4,
    )
    assert data["deliveries"] == {"queued": 1, "sending": 0, "sent": 2, "failed": 1, "cancelled": 0, "empty": 0}
    missing = client.get("/api/editions/weekly:2026-W01", headers=bearer(tokens["read"]))
    assert missing.status_code == 404 and "no edition 'weekly:2026-W01'" in missing.json()["error"]

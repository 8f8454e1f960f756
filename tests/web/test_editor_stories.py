"""The console's stories over real HTTP: search, filters, paging, and topic choices per topic."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from digest.db.engine import session_scope
from digest.feeds import store, story_store, topic_store
from digest.feeds.models import Story
from digest.tagging.rules import Ruleset
from tests.conftest import ROOT
from tests.digests.helpers import ingest, rss
from tests.web.conftest import csrf, notice

SAMPLES = ROOT / "config" / "sample-feeds"


def titles(page: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r'<h2 class="story-title"[^>]*>(?:<a [^>]*>)?([^<]+)', page)]


def test_search_by_words_topic_feed_and_dates(editor_client: TestClient, engine: Engine, ruleset: Ruleset) -> None:
    now = datetime.now(UTC)
    ingest(engine, ruleset, (SAMPLES / "policy-desk.xml").read_bytes(), now, feed_url="https://desk.example/feed")
    ingest(engine, ruleset, (SAMPLES / "cyberlaw-wire.xml").read_bytes(), now, feed_url="https://wire.example/rss")
    everything = editor_client.get("/editor/stories")
    assert "9 stories" in everything.text
    words = editor_client.get("/editor/stories?q=DEEPFAKES+bill")
    assert titles(words.text) == ["Lawmakers pass bill criminalising sexually explicit deepfakes"]
    assert 'value="DEEPFAKES bill"' in words.text
    topic = titles(editor_client.get("/editor/stories?topic=deepfakes").text)
    assert "Lawmakers pass bill criminalising sexually explicit deepfakes" in topic
    assert not any(t.startswith("Age-verification") for t in topic)
    none = titles(editor_client.get("/editor/stories?topic=-").text)
    with session_scope(engine) as s:
        stories = story_store.list_stories(s, limit=100)
        tagged = topic_store.topics_of(s, [st.id for st in stories])
        wire = store.get_feed(s, "https://wire.example/rss").id
        untagged = {st.title for st in stories if st.id not in tagged}
        from_wire = {st.title for st in stories if any(src.feed_id == wire for src in st.sources)}
        oldest = min(stories, key=lambda st: st.published_at)
    assert set(none) == untagged and untagged
    assert set(titles(editor_client.get(f"/editor/stories?feed={wire}").text)) == from_wire
    day = oldest.published_at.date().isoformat()
    dated = titles(editor_client.get(f"/editor/stories?from={day}&to={day}").text)
    assert oldest.title in dated and len(dated) < 9
    wrong = editor_client.get("/editor/stories?from=yesterday")
    assert (
        notice(wrong.text) == "error: Not done: the story filters 'yesterday' is not a date for 'from': use YYYY-MM-DD"
    )


def test_paging_keeps_the_filters(editor_client: TestClient, engine: Engine, ruleset: Ruleset) -> None:
    start = datetime(2026, 11, 1, 12, tzinfo=UTC)
    items = [(f"Court rules on case {n:02d}", f"https://wire.example/{n}", "A ruling.") for n in range(25)]
    ingest(engine, ruleset, rss(*items), start)
    with session_scope(engine) as s:
        for n, story in enumerate(sorted(story_store.list_stories(s, limit=100), key=lambda st: st.link or "")):
            s.get_one(Story, story.id).published_at = start + timedelta(hours=n)
    first = editor_client.get("/editor/stories?q=court")
    assert "25 stories, page 1 of 2" in first.text and len(titles(first.text)) == 20
    older = re.search(r'<a href="([^"]+)" rel="next">', first.text)
    assert older is not None and "q=court" in older.group(1)
    second = editor_client.get(older.group(1).replace("&amp;", "&"))
    assert "page 2 of 2" in second.text and len(titles(second.text)) == 5
    assert set(titles(first.text)).isdisjoint(titles(second.text))
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text


def test_topics_are_changed_by_a_choice_per_topic(editor_client: TestClient, engine: Engine, ruleset: Ruleset) -> None:
    ingest(engine, ruleset, (SAMPLES / "policy-desk.xml").read_bytes(), datetime.now(UTC))
    with session_scope(engine) as s:
        story = next(st for st in story_store.list_stories(s) if st.title.startswith("Age-verification"))
        assert "child-protection" in topic_store.topics_of(s, [story.id])[story.id]
    page = editor_client.get("/editor/stories?q=age-verification")
    assert 'name="topic-deepfakes" value="rules" checked' in page.text.replace(
        f'id="t-{story.id}-deepfakes-rules" ', ""
    )
    changed = editor_client.post(
        f"/editor/stories/{story.id}/topics",
        data={
            "csrf": csrf(page.text),
            "back": "/editor/stories?q=age-verification",
            "topic-deepfakes": "pinned",
            "topic-child-protection": "removed",
            "topic-ai-misuse": "rules",
        },
    )
    assert changed.status_code == 303 and changed.headers["location"] == "/editor/stories?q=age-verification"
    shown = editor_client.get(changed.headers["location"])
    assert notice(shown.text).startswith(f"success: Done: story #{story.id} “Age-verification")
    assert notice(shown.text).endswith("Topics saved; it now carries deepfakes.")
    assert "child-protection: pinned off by an editor" in shown.text
    with session_scope(engine) as s:
        assert set(topic_store.topics_of(s, [story.id])[story.id]) == {"deepfakes"}
        assert topic_store.manual_decisions(s, story.id) == {"deepfakes": "pinned", "child-protection": "removed"}
    back_to_rules = editor_client.post(
        f"/editor/stories/{story.id}/topics",
        data={"csrf": csrf(page.text), "topic-deepfakes": "rules", "topic-child-protection": "rules"},
        follow_redirects=True,
    )
    assert "it now carries child-protection" in notice(back_to_rules.text)
    with session_scope(engine) as s:
        assert topic_store.manual_decisions(s, story.id) == {}
    elsewhere = editor_client.post(
        f"/editor/stories/{story.id}/topics",
        data={"csrf": csrf(page.text), "back": "https://evil.example/", "topic-deepfakes": "rules"},
    )
    assert elsewhere.headers["location"] == "/editor/stories"
    missing = editor_client.post("/editor/stories/999999/topics", data={"csrf": csrf(page.text)}, follow_redirects=True)
    assert notice(missing.text) == "error: Not done: changing topics No story has id 999999"

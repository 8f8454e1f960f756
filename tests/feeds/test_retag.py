"""Topics in the database: tagged at ingestion, re-tagged when rules change, editors' decisions kept."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import Engine

from digest.db.engine import session_scope
from digest.feeds import entry_store, story_store, topic_store
from digest.feeds.parse import ParsedEntry
from digest.feeds.retag import retag_stories, tag_and_save
from digest.tagging.rules import Ruleset, compile_rules
from tests.feeds.test_store import add_feeds, entry

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def ingest(engine: Engine, ruleset: Ruleset, *entries: ParsedEntry) -> list[int]:
    (feed,) = add_feeds(engine, "https://news.example/feed")
    with session_scope(engine) as s:
        counts = entry_store.save_entries(s, feed, list(entries), NOW)
        tag_and_save(s, ruleset, {i: (e.title, e.summary_text, e.content_html) for i, e in counts.changed.items()}, NOW)
        return sorted(counts.changed)


def topics(engine: Engine, story_id: int) -> dict[str, list[str]]:
    with session_scope(engine) as s:
        return topic_store.topics_of(s, [story_id]).get(story_id, {})


def test_new_stories_are_tagged_with_reasons(engine: Engine, ruleset: Ruleset) -> None:
    fake, other = ingest(
        engine,
        ruleset,
        entry("Teacher arrested over deepfake images of pupils", "https://n.example/1", "1", "Explicit fakes."),
        entry("Council approves new bus lanes", "https://n.example/2", "2", "Traffic plans."),
    )
    assert set(topics(engine, fake)) == {"ai-misuse", "child-protection", "deepfakes"}
    assert "deepfake" in topics(engine, fake)["deepfakes"]
    assert topics(engine, other) == {}
    with session_scope(engine) as s:
        assert [st.id for st in story_store.list_stories(s, topic="deepfakes")] == [fake]


def test_retag_reports_gains_and_losses_and_keeps_manual_decisions(engine: Engine, ruleset: Ruleset) -> None:
    fake, bus = ingest(
        engine,
        ruleset,
        entry("Deepfake robocalls imitate candidate", "https://n.example/1", "1"),
        entry("Council approves new bus lanes", "https://n.example/2", "2"),
    )
    with session_scope(engine) as s:
        topic_store.set_manual(s, bus, "child-protection", "pinned", NOW)
        topic_store.set_manual(s, fake, "ai-misuse", "removed", NOW)
    assert set(topics(engine, fake)) == {"deepfakes"}

    # New rules: deepfakes no longer implies ai-misuse, and a bus topic appears.
    narrower = compile_rules(
        {
            "topics": [
                {"slug": "deepfakes", "name": "Deepfakes", "rules": [{"phrases": ["robocall*"]}]},
                {"slug": "transport", "name": "Transport", "rules": [{"phrases": ["bus lane*"]}]},
                {"slug": "ai-misuse", "name": "AI misuse", "rules": [{"phrases": ["deepfake*"]}]},
            ]
        }
    )
    report = retag_stories(engine, narrower, batch=1)
    assert report.stories == 2
    assert report.gained == {"transport": 1}
    assert report.lost == {}
    assert set(topics(engine, fake)) == {"deepfakes"}  # ai-misuse stays removed by hand
    assert set(topics(engine, bus)) == {"child-protection", "transport"}  # the pin survives

    with session_scope(engine) as s:
        topic_store.set_manual(s, bus, "child-protection", None, NOW)
    assert retag_stories(engine, narrower).lost == {}
    assert set(topics(engine, bus)) == {"transport"}


def test_an_updated_story_is_tagged_again(engine: Engine, ruleset: Ruleset) -> None:
    original = entry("Council approves new bus lanes", "https://n.example/1", "1")
    (story,) = ingest(engine, ruleset, original)
    revised = replace(original, title="Council bans nudify apps", content_hash="changed")
    with session_scope(engine) as s:
        counts = entry_store.save_entries(s, 1, [revised], NOW)
        tag_and_save(s, ruleset, {i: (e.title, e.summary_text, e.content_html) for i, e in counts.changed.items()}, NOW)
    assert set(topics(engine, story)) == {"ai-misuse", "deepfakes"}

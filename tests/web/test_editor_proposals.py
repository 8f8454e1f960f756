"""The stories page's panel of rule changes learned from editors' corrections, applied with a click."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from digest.config import Settings
from digest.db.engine import session_scope
from digest.editors import store as editors
from digest.feeds import store, topic_store
from digest.feeds.retag import tag_and_save
from digest.tagging.rules import Ruleset, load_rules
from digest.web.app import create_app
from tests.cli.test_proposals_cli import RULES, STORIES
from tests.feeds.test_retag import NOW, ingest
from tests.feeds.test_store import entry
from tests.web.conftest import EDITOR_PASSWORD, csrf, notice


def _stories_and_editor(engine: Engine, tmp_path: Path) -> tuple[Path, Ruleset, list[int]]:
    """The rules file, the rules, the stored STORIES' ids, and the editor alice."""
    rules = tmp_path / "topics.toml"
    rules.write_text(RULES)
    ruleset = load_rules(rules)
    ids = ingest(engine, ruleset, *(entry(t, f"https://n.example/{i}", str(i), s) for i, (t, s) in enumerate(STORIES)))
    with session_scope(engine) as s:
        editors.set_editor(s, "alice", EDITOR_PASSWORD, datetime.now(UTC))
    return rules, ruleset, ids


def test_an_editor_applies_a_proposal_from_the_stories_page(
    web_settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    rules, ruleset, ids = _stories_and_editor(engine, tmp_path)
    with TestClient(create_app(web_settings, engine, ruleset), follow_redirects=False) as client:
        client.post("/editor/login", data={"username": "alice", "password": EDITOR_PASSWORD})
        assert "Rule changes learned" not in client.get("/editor/stories").text  # no corrections yet
        with session_scope(engine) as s:
            for story_id in ids[:2]:
                topic_store.set_manual(s, story_id, "ai-misuse", "removed", NOW)

        page = client.get("/editor/stories").text
        assert "Rule changes learned from editors' corrections" in page
        assert f"also changes #{ids[2]} Ransomware gang leaks AI firm&#39;s files (nobody decided)" in page
        key = page.split('action="/editor/stories/proposals/')[1].split('"')[0]

        forged = client.post(f"/editor/stories/proposals/{key}", data={"csrf": "forged"})
        assert forged.status_code == 403 and "digest tagging apply" not in rules.read_text()

        applied = client.post(f"/editor/stories/proposals/{key}", data={"csrf": csrf(page)})
        assert applied.status_code == 303 and applied.headers["location"] == "/editor/stories"
        shown = client.get("/editor/stories").text
        assert notice(shown).startswith(f"success: Done: proposal {key} Applied to {rules}")
        assert f"digest tagging apply {key}" in rules.read_text()
        with session_scope(engine) as s:
            carried = topic_store.topics_of(s, ids)
        assert sorted(carried) == ids[3:]  # the uncorrected attack on an AI firm lost the topic too

        stale = client.post(f"/editor/stories/proposals/{key}", data={"csrf": csrf(shown)})
        assert notice(client.get(stale.headers["location"]).text).startswith("error: Not done: applying a proposal")


def test_the_proposals_shown_follow_new_pins_new_stories_and_the_rules_file(
    web_settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    _rules, ruleset, ids = _stories_and_editor(engine, tmp_path)
    with session_scope(engine) as s:
        topic_store.set_manual(s, ids[0], "ai-misuse", "removed", NOW)
    with TestClient(create_app(web_settings, engine, ruleset), follow_redirects=False) as client:
        client.post("/editor/login", data={"username": "alice", "password": EDITOR_PASSWORD})
        # One correction is not enough to learn from; the page remembers that answer...
        assert "Rule changes learned" not in client.get("/editor/stories").text
        assert "Rule changes learned" not in client.get("/editor/stories").text

        # ... until a second editor's pin arrives (here straight in the database, as another worker would).
        with session_scope(engine) as s:
            topic_store.set_manual(s, ids[1], "ai-misuse", "removed", NOW)
        page = client.get("/editor/stories").text
        assert "From 2 decisions editors made." in page
        assert f"also changes #{ids[2]} Ransomware gang leaks AI firm&#39;s files (nobody decided)" in page

        # A story polled in later is among those the proposal would change.
        with session_scope(engine) as s:
            (feed,) = [f for f, _n in store.list_feeds(s)]
            later = entry("Ransomware gang blackmails AI lab", "https://n.example/later", "later", "Data stolen.")
            saved = store.save_entries(s, feed.id, [later], NOW)
            tag_and_save(s, ruleset, {i: (e.title, e.summary_text, "") for i, e in saved.changed.items()}, NOW)
            (later_id,) = saved.changed
        assert f"also changes #{later_id} Ransomware gang blackmails AI lab (nobody decided)" in (
            client.get("/editor/stories").text
        )

        # Once applied, the rules file holds the proposal: it is no longer offered.
        key = page.split('action="/editor/stories/proposals/')[1].split('"')[0]
        client.post(f"/editor/stories/proposals/{key}", data={"csrf": csrf(page)})
        assert f'action="/editor/stories/proposals/{key}"' not in client.get("/editor/stories").text

        # An editor takes a pin back: one correction again, nothing to propose.
        with session_scope(engine) as s:
            topic_store.set_manual(s, ids[1], "ai-misuse", None, NOW)
        assert "Rule changes learned" not in client.get("/editor/stories").text

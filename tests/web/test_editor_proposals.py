"""The stories page's panel of rule changes learned from editors' corrections, applied with a click."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from digest.config import Settings
from digest.db.engine import session_scope
from digest.editors import store as editors
from digest.feeds import topic_store
from digest.tagging.rules import load_rules
from digest.web.app import create_app
from tests.cli.test_proposals_cli import RULES, STORIES
from tests.feeds.test_retag import NOW, ingest
from tests.feeds.test_store import entry
from tests.web.conftest import EDITOR_PASSWORD, csrf, notice


def test_an_editor_applies_a_proposal_from_the_stories_page(
    web_settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    rules = tmp_path / "topics.toml"
    rules.write_text(RULES)
    ruleset = load_rules(rules)
    ids = ingest(engine, ruleset, *(entry(t, f"https://n.example/{i}", str(i), s) for i, (t, s) in enumerate(STORIES)))
    with session_scope(engine) as s:
        editors.set_editor(s, "alice", EDITOR_PASSWORD, datetime.now(UTC))
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

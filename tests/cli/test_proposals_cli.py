"""Learning from editors on the command line: corrections in, proposals out, one applied to the rules file."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from sqlalchemy import create_engine

from digest.tagging.rules import load_rules
from tests.cli.test_feeds_cli import run
from tests.feeds.test_retag import ingest
from tests.feeds.test_store import entry

RULES = """# Our rules: this comment and the layout below must survive an applied proposal.
version = 1

[[topics]]
slug = "ai-misuse"
name = "AI misuse"

  [[topics.rules]]
  name = "AI and crime"
  all = [["ai", "chatbot*"], ["ransomware", "fraud*", "lawsuit*"]]
"""

STORIES = [
    ("Ransomware gang hits AI chip designer", "Files were posted online."),
    ("AI start-up hit by ransomware gang", "Its systems are down."),
    ("Ransomware gang leaks AI firm's files", "The company is investigating."),
    ("Scammers use AI voices to commit fraud", "Pensioners lost savings."),
    ("Chatbot maker faces lawsuit over false advice", "A user was harmed."),
]


def test_corrections_become_a_proposal_that_lands_in_the_rules_file(database_url: str, tmp_path: Path) -> None:
    rules = tmp_path / "topics.toml"
    rules.write_text(RULES)
    env = {"DIGEST_TOPICS_FILE": str(rules)}
    engine = create_engine(database_url)
    try:
        ids = ingest(
            engine,
            load_rules(rules),
            *(entry(t, f"https://n.example/{i}", str(i), s) for i, (t, s) in enumerate(STORIES)),
        )
    finally:
        engine.dispose()
    nothing = run(database_url, "tagging", "suggest", env=env)
    assert nothing.exit_code == 0 and "\nno proposals from 0 editors' decisions" in nothing.output
    # These rules are the test's own, the learned layer the shipped one: the operator is told.
    assert "config/learned.json was trained beside other rules than" in nothing.output
    for story_id in ids[:2]:  # editors: an attack on an AI company is not AI misuse
        assert run(database_url, "stories", "tag", str(story_id), "-ai-misuse", env=env).exit_code == 0

    listed = run(database_url, "tagging", "suggest", "--json", env=env)
    assert listed.exit_code == 0, listed.output
    best = json.loads(listed.stdout)[0]  # the warning about the layer goes to stderr
    assert best["topic"] == "ai-misuse" and "ransomware" in best["phrase"]
    assert [s["id"] for s in best["fixes"]] == ids[:2]
    assert [s["id"] for s in best["others"]] == [ids[2]]  # the uncorrected story like them, shown before applying
    assert best["undoes"] == []
    plain = run(database_url, "tagging", "suggest", env=env).output
    assert f"[{best['key']}]" in plain and f"#{ids[2]} Ransomware gang leaks AI firm's files" in plain

    applied = run(database_url, "tagging", "apply", best["key"], env=env)
    assert applied.exit_code == 0, applied.output
    assert f"applied [{best['key']}] to {rules}" in applied.output
    assert "ai-misuse: +0 gained, -1 lost" in applied.output
    assert "the learned layer was trained beside the old rules: run 'digest retag --learn'" in applied.output
    text = rules.read_text()
    assert text.startswith(RULES.splitlines()[0]) and f"digest tagging apply {best['key']}" in text
    assert tomllib.loads(text)["version"] == 1

    after = {s["id"]: s["topics"] for s in json.loads(run(database_url, "stories", "list", "--json", env=env).stdout)}
    assert [after[i] for i in ids] == [[], [], [], ["ai-misuse"], ["ai-misuse"]]
    again = run(database_url, "tagging", "apply", best["key"], env=env)
    assert again.exit_code == 2 and f"\nerror: no proposal '{best['key']}' now" in again.output

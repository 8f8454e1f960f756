"""`digest retag --learn`: the learned layer retrained from labelled stories and editors' pins, then every
stored story tagged again with it, a learned tag showing the words that decided it."""

from __future__ import annotations

import json
from pathlib import Path

import tomlkit
from sqlalchemy import create_engine

from digest.tagging.learned import load_model
from digest.tagging.rules import load_rules
from tests.cli.test_feeds_cli import run
from tests.feeds.test_retag import ingest
from tests.feeds.test_store import entry
from tests.tagging.test_learned import EXAMPLES_TEXT, RULES

STORIES = [
    ("Bank's AI stops fraud against savers", "Its detection flagged the payments in time."),
    ("Insurer's AI stops fraud against customers", "Its detection flagged the claims in time."),
    ("Lender's AI stops fraud against students", "Its detection flagged the loans in time."),
    ("Bank's AI stops fraud against pensioners", "Its detection flagged the payments in time."),
    ("Shop's assistant bot promised a discount to students", "A court held the shop to it."),
]


def test_retag_learn_trains_on_examples_and_pins_and_retags(database_url: str, tmp_path: Path) -> None:
    rules, weights, examples = tmp_path / "topics.toml", tmp_path / "learned.json", tmp_path / "examples.jsonl"
    rules.write_text(tomlkit.dumps(RULES))
    examples.write_text(
        "".join(json.dumps({"title": t, "summary": s, "topics": k}) + "\n" for t, s, k in EXAMPLES_TEXT)
    )
    env = {"DIGEST_TOPICS_FILE": str(rules), "DIGEST_LEARNED_FILE": str(weights)}
    engine = create_engine(database_url)
    try:
        ids = ingest(
            engine,
            load_rules(rules),
            *(entry(t, f"https://n.example/{i}", str(i), s) for i, (t, s) in enumerate(STORIES)),
        )
    finally:
        engine.dispose()
    for story_id in ids[:3]:  # editors: AI that stops fraud is defence, not misuse
        assert run(database_url, "stories", "tag", str(story_id), "-ai-misuse", env=env).exit_code == 0

    learned = run(database_url, "retag", "--learn", "--examples", str(examples), env=env)
    assert learned.exit_code == 0, learned.output
    assert (
        f"learned from {len(EXAMPLES_TEXT)} labelled stories and 3 editors' decisions; weights written to {weights}"
        in learned.output
    )
    assert "retagged 5 stories" in learned.output and "and the learned layer" in learned.output
    assert load_model(weights).about["pins"] == 3

    after = {s["id"]: s for s in json.loads(run(database_url, "stories", "list", "--json", env=env).output)}
    assert [after[i]["topics"] for i in ids] == [[], [], [], [], ["ai-misuse"]]
    why = after[ids[4]]["why"]["ai-misuse"]
    assert why and all(reason.startswith("learned: ") for reason in why)

    # Without --learn the weights just written are read again.
    again = run(database_url, "retag", env=env)
    assert again.exit_code == 0 and "and the learned layer: 0 changed" in again.output
    assert "trained beside other rules" not in again.output

    # A hand edit of the rules: the weights still work, and the operator is told to retrain them.
    edited = json.loads(json.dumps(RULES))
    edited["topics"][0]["rules"][0]["all"][1].append("scam*")
    rules.write_text(tomlkit.dumps(edited))
    stale = run(database_url, "retag", env=env)
    assert stale.exit_code == 0, stale.output
    assert f"{weights} was trained beside other rules than {rules}: run 'digest retag --learn'" in stale.output
    retrained = run(database_url, "retag", "--learn", "--examples", str(examples), env=env)
    assert retrained.exit_code == 0 and "trained beside other rules" not in run(database_url, "retag", env=env).output


def test_retag_learn_explains_what_is_missing_in_one_line(database_url: str, tmp_path: Path) -> None:
    assert run(database_url, "db", "upgrade").exit_code == 0
    missing = tmp_path / "none.jsonl"
    env = {"DIGEST_LEARNED_FILE": str(tmp_path / "learned.json")}
    result = run(database_url, "retag", "--learn", "--examples", str(missing), env=env)
    assert result.exit_code == 2 and result.output == f"error: {missing}: labelled stories not found\n"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "A story", "topics": "ai-misuse"}\n')
    result = run(database_url, "retag", "--learn", "--examples", str(bad), env=env)
    assert result.exit_code == 2 and "example 1: needs a 'title', a 'summary' and a list of 'topics'" in result.output
    off = run(database_url, "retag", "--learn", env={"DIGEST_LEARNED_FILE": ""})
    assert off.exit_code == 2 and "the learned layer is turned off" in off.output
    (tmp_path / "learned.json").write_text("{broken")
    broken = run(database_url, "retag", env=env)
    assert broken.exit_code == 2 and "learned weights unreadable" in broken.output and "Traceback" not in broken.output

"""Tagging from the command line: the JSON-lines contract, retag, topics, and editors' decisions."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from digest.cli.main import cli
from tests.cli.test_feeds_cli import SAMPLES, run
from tests.conftest import TOPICS
from tests.httpserver import FeedServer, Route


def test_tag_reads_json_lines_and_answers_in_order() -> None:
    lines = [
        {"id": "a", "title": "Court jails man who cloned his boss's voice", "summary": "He ordered a transfer."},
        "not json at all",
        {"id": 7, "title": "Council approves bus lanes", "summary": "Traffic plans.", "content": "More."},
        {"id": "no-title", "summary": "x"},
        {"id": "b", "title": "Regulator fines app over children's data", "summary": None},
    ]
    stdin = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    result = CliRunner().invoke(cli, ["tag"], input=stdin, env={"DIGEST_TOPICS_FILE": str(TOPICS)})
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.output.splitlines()]
    assert out[0] == {
        "id": "a",
        "topics": ["ai-misuse", "deepfakes"],
        "why": {"ai-misuse": ["cloned", "voice"], "deepfakes": ["cloned", "voice"]},
    }
    assert out[1]["line"] == 2 and out[1]["error"].startswith("not valid JSON")
    assert out[2] == {"id": 7, "topics": [], "why": {}}
    assert out[3] == {"line": 4, "error": "missing 'title'"}
    assert out[4]["id"] == "b" and out[4]["topics"] == ["child-protection"]


def test_a_broken_rules_file_is_one_clear_error(tmp_path: Path) -> None:
    rules = tmp_path / "topics.toml"
    rules.write_text('[[topics]]\nslug = "x"\nname = "X"\n[[topics.rules]]\nname = "r"\nphrases = ["re:(("]\n')
    result = CliRunner().invoke(cli, ["tag"], input="", env={"DIGEST_TOPICS_FILE": str(rules)})
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {rules}: topic 'x', rule 'r': bad regular expression")


def test_poll_tags_stories_and_editors_can_override(database_url: str, feed_server: FeedServer, tmp_path: Path) -> None:
    env = {"DIGEST_TOPICS_FILE": str(TOPICS)}
    url = feed_server.add("/wire.xml", Route((SAMPLES / "cyberlaw-wire.xml").read_bytes()))
    assert run(database_url, "feeds", "add", url, env=env).exit_code == 0
    assert run(database_url, "poll", env=env).exit_code == 0

    deepfakes = json.loads(run(database_url, "stories", "list", "--topic", "deepfakes", "--json", env=env).output)
    titles = {s["title"] for s in deepfakes}
    assert titles == {
        "Court jails fraudster who cloned a company director's voice",
        "Lawmakers pass bill criminalising sexually explicit deepfakes",
    }
    voice = next(s for s in deepfakes if "voice" in s["title"])
    assert voice["topics"] == ["ai-misuse", "deepfakes"] and voice["why"]["deepfakes"]

    bad = run(database_url, "stories", "list", "--topic", "crypto", env=env)
    assert bad.exit_code == 2 and "unknown topic 'crypto'" in bad.output

    changed = run(database_url, "stories", "tag", str(voice["id"]), "-deepfakes", "+child-protection", env=env)
    assert changed.output.startswith(f"story {voice['id']} topics: ai-misuse, child-protection (pinned)")
    assert "removed by hand: deepfakes" in changed.output
    assert run(database_url, "stories", "tag", str(voice["id"]), "*x", env=env).exit_code == 2
    assert "no story has id 999" in run(database_url, "stories", "tag", "999", "+deepfakes", env=env).output

    # Editors add a topic; retag reports what changed and keeps the manual decisions.
    extended = tmp_path / "topics.toml"
    extended.write_text(
        TOPICS.read_text()
        + '\n[[topics]]\nslug = "ransomware"\nname = "Ransomware"\n[[topics.rules]]\nphrases = ["ransomware"]\n'
    )
    retag = run(database_url, "retag", env={"DIGEST_TOPICS_FILE": str(extended)})
    assert retag.exit_code == 0, retag.output
    assert "retagged 6 stories" in retag.output and "ransomware: +1 gained, -0 lost" in retag.output
    after = json.loads(run(database_url, "stories", "list", "--json", env=env).output)
    assert next(s for s in after if s["id"] == voice["id"])["topics"] == ["ai-misuse", "child-protection"]

    back = run(database_url, "stories", "tag", str(voice["id"]), "~deepfakes", "~child-protection", env=env)
    assert back.output.startswith(f"story {voice['id']} topics: ai-misuse, deepfakes\n")

    listed = json.loads(run(database_url, "topics", "--json", env=env).output)
    assert {t["slug"]: t["stories"] for t in listed} == {"ai-misuse": 3, "child-protection": 1, "deepfakes": 2}

"""``digest events``: JSON lines of stories in, their events and threads out, in order."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner

from digest.cli.main import cli

STORIES = [
    {
        "id": "a",
        "title": "Clorox sues Cognizant for $380 million over 2023 hack",
        "summary": "Clorox says Cognizant help desk staff handed hackers passwords.",
        "published": "2025-07-22T10:00:00Z",
        "source": "one",
    },
    {
        "id": "b",
        "title": "Ascot Regional Hospital discloses breach of 210,000 patients",
        "summary": "Ascot Regional said an intruder copied names and diagnoses.",
        "published": "2025-07-22T11:00:00Z",
        "source": "two",
    },
    {
        "id": "c",
        "title": "Clorox files $380M lawsuit against Cognizant",
        "summary": "The suit says Cognizant's service desk gave an attacker Clorox passwords in 2023.",
        "published": "2025-07-23T09:00:00Z",
        "source": "three",
    },
    {
        "id": "d",
        "title": "Cognizant asks court to dismiss Clorox's $380 million suit",
        "summary": "Cognizant says its help desk followed Clorox's procedures.",
        "published": "2025-09-18T09:00:00Z",
        "source": "one",
    },
]


def _run(stdin: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(cli, ["events"], input=stdin)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def test_events_groups_reports_of_one_development_and_links_its_sequel() -> None:
    out = _run("".join(json.dumps(s) + "\n" for s in STORIES))
    assert [o["id"] for o in out] == ["a", "b", "c", "d"]
    a, b, c, d = out
    assert a["event"] == c["event"] != b["event"]
    assert d["event"] != a["event"] and d["thread"] == a["thread"] != b["thread"]
    assert a["why"] == [] and any("clorox" in w and "same event" in w for w in c["why"])  # type: ignore[operator,union-attr]
    assert any("same thread" in w for w in d["why"])  # type: ignore[union-attr]


def test_reports_worded_their_own_way_are_one_event_and_say_how_alike_they_mean() -> None:
    ruling = {
        "id": "fcc",
        "title": "FCC rules AI-generated voices in robocalls are illegal",
        "summary": "The commission ruled that calls using voice cloning count as artificial voices.",
        "published": "2024-02-08T17:00:00Z",
    }
    retold = {
        "id": "law",
        "title": "Declaratory ruling extends 1991 robocall law to cloned voices",
        "summary": "Calls made with synthetic voices now need the called party's consent, regulators said.",
        "published": "2024-02-09T09:00:00Z",
    }
    # The same week, the same vocabulary, another development: a state traces last month's calls.
    traced = {
        "id": "traced",
        "title": "New Hampshire traces fake Biden robocall to Texas company Life Corp.",
        "summary": "The attorney general said the calls urging voters to skip the primary came from Life Corporation.",
        "published": "2024-02-06T19:10:00Z",
    }
    first, second, other = _run("".join(json.dumps(s) + "\n" for s in (ruling, retold, traced)))
    assert first["event"] == second["event"] != other["event"]
    assert any("meaning" in w and "% alike" in w for w in second["why"])  # type: ignore[union-attr]


def test_bad_lines_get_an_error_in_their_place_and_the_rest_is_grouped() -> None:
    lines = [
        json.dumps(STORIES[0]),
        "{not json",
        json.dumps({"id": "x", "title": "No date"}),
        json.dumps({**STORIES[2], "published": "yesterday"}),
        json.dumps(STORIES[2]),
    ]
    out = _run("\n".join(lines) + "\n")
    assert out[1]["line"] == 2 and "not valid JSON" in str(out[1]["error"])
    assert out[2] == {"line": 3, "error": "missing 'published' (an ISO 8601 time such as 2026-03-01T09:00:00Z)"}
    assert "'published' is not an ISO 8601 time" in str(out[3]["error"])
    assert out[0]["event"] == out[4]["event"]


def test_editors_merge_and_split_stored_events_from_the_command_line(database_url: str) -> None:
    from digest.db.engine import make_engine
    from tests.cli.test_feeds_cli import run
    from tests.events.test_store import WEEK, save

    engine = make_engine(database_url)
    try:
        ids = save(engine, WEEK)
    finally:
        engine.dispose()
    assert run(database_url, "events", "regroup", "--days", "3650").output == f"grouped {len(WEEK)} stories\n"

    def events() -> list[dict[str, Any]]:
        result = run(database_url, "events", "list", "--days", "3650", "--json")
        assert result.exit_code == 0, result.output
        return list(json.loads(result.output))

    def event_of(story: int) -> dict[str, Any]:
        return next(e for e in events() if story in [s["id"] for s in e["stories"]])

    assert len(event_of(ids["dev-2"])["stories"]) == 3
    split = run(database_url, "events", "split", str(ids["dev-2"]))
    assert split.exit_code == 0 and "now stands in its own event" in split.output
    assert [s["id"] for s in event_of(ids["dev-2"])["stories"]] == [ids["dev-2"]]

    merged = run(database_url, "events", "merge", str(ids["dev-24"]), str(ids["dev-25"]))
    assert merged.exit_code == 0, merged.output
    assert run(database_url, "events", "regroup", "--all", "--days", "3650").exit_code == 0
    assert {ids["dev-24"], ids["dev-25"]} <= {s["id"] for s in event_of(ids["dev-24"])["stories"]}
    assert [s["id"] for s in event_of(ids["dev-2"])["stories"]] == [ids["dev-2"]]

    text = run(database_url, "events", "list", "--days", "3650").output
    assert "SharePoint" in text and "(thread t:" in text

    missing = run(database_url, "events", "merge", str(ids["dev-24"]), "999999")
    assert missing.exit_code == 2 and missing.output.strip() == "error: no story has id 999999"
    assert run(database_url, "events", "split", "x").exit_code == 2

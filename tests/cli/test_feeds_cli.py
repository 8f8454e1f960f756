"""The command line as editors and other tools use it: names, outputs, and errors for people."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from digest.cli.main import cli
from tests.httpserver import FeedServer, Route

SAMPLES = Path(__file__).resolve().parents[2] / "config" / "sample-feeds"


def run(database_url: str, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env={"DIGEST_DATABASE_URL": database_url, **(env or {})})


def test_commands_refuse_a_database_never_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    result = run(url, "feeds", "list")
    assert result.exit_code == 2
    assert "has not been created yet: run 'digest db upgrade' first" in result.output
    assert "Traceback" not in result.output
    upgraded = run(url, "db", "upgrade")
    assert upgraded.exit_code == 0 and "schema upgraded from nothing to revision" in upgraded.output
    assert "already at revision" in run(url, "db", "upgrade").output
    assert run(url, "feeds", "list").output.startswith("no feeds yet")


def test_a_bad_config_is_one_clear_line(tmp_path: Path) -> None:
    config = tmp_path / "digest.toml"
    config.write_text("[feeds]\nconcurrency = 'many'\n")
    result = CliRunner().invoke(cli, ["feeds", "list"], env={"DIGEST_CONFIG": str(config)})
    assert result.exit_code == 2
    assert f"{config}: setting 'feeds.concurrency': input should be a valid integer" in result.output
    assert "Traceback" not in result.output


def test_add_poll_and_list_feeds_and_stories(database_url: str, feed_server: FeedServer) -> None:
    wire = feed_server.add("/wire.xml", Route((SAMPLES / "cyberlaw-wire.xml").read_bytes()))
    desk = feed_server.add("/desk.xml", Route((SAMPLES / "policy-desk.xml").read_bytes()))
    broken = feed_server.add("/broken.xml", Route(b"<html>nope</html>", headers={"Content-Type": "text/html"}))
    for url in (wire, desk, broken):
        assert run(database_url, "feeds", "add", url).exit_code == 0
    assert (
        run(database_url, "feeds", "add", wire, "--title", "Again").output
        == f"error: the feed {wire} is already added\n"
    )
    bad = run(database_url, "feeds", "add", "javascript:alert(1)")
    assert bad.exit_code == 2 and "is not a feed address" in bad.output

    polled = run(database_url, "poll")
    assert polled.exit_code == 0, polled.output
    assert "polled 3 feeds: 2 ok, 0 not modified, 1 failed; 9 new stories, 0 updated" in polled.output
    assert f"failed {broken}: not a feed" in polled.output

    feeds = json.loads(run(database_url, "feeds", "list", "--json").output)
    by_url = {f["url"]: f for f in feeds}
    assert set(by_url[wire]) >= {"url", "title", "status", "error_count", "last_error", "next_poll"}
    assert (by_url[wire]["title"], by_url[wire]["status"], by_url[wire]["stories"]) == ("Cyber Law Wire", "ok", 6)
    assert (by_url[broken]["status"], by_url[broken]["error_count"]) == ("error", 1)
    assert by_url[broken]["last_error"].startswith("not a feed")

    table = run(database_url, "feeds", "list", env={"COLUMNS": "250"})
    assert "Cyber Law Wire" in table.output and "error" in table.output

    stories = json.loads(run(database_url, "stories", "list", "--json", "--limit", "100").output)
    assert len(stories) == 9
    assert set(stories[0]) >= {"id", "title", "link", "published", "topics", "why", "sources"}
    shared = next(
        s for s in stories if s["link"] == "https://policy-desk.example/articles/explicit-deepfakes-bill-passes"
    )
    assert sorted(src["feed_title"] for src in shared["sources"]) == ["Cyber Law Wire", "Policy Desk"]
    assert (
        json.loads(run(database_url, "stories", "list", "--json", "--limit", "2").output)[0]["published"]
        >= (stories[-1]["published"])
    )


def test_the_console_script_runs_the_demo(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "digest", "demo", "--dir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "added 4 sample subscribers" in result.stdout
    assert (
        "polled 4 sample feeds from a local HTTP server: 16 stories stored and tagged, 0 feeds failed" in result.stdout
    )
    assert "sent 4 digests to the file outbox" in result.stdout
    assert len(list((tmp_path / "demo" / "outbox").glob("*.eml"))) == 4
    assert "Manage your topics" in (tmp_path / "demo" / "preview.html").read_text()

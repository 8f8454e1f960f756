"""``digest feeds import|export|discover`` and the refusal of one feed under two spellings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import listparser

from tests.cli.test_feeds_cli import run
from tests.httpserver import FeedServer, Route

OPML = Path(__file__).resolve().parents[1] / "feeds" / "opml"


def test_the_same_feed_under_another_spelling_is_refused_naming_it(database_url: str) -> None:
    assert run(database_url, "feeds", "add", "https://wire.example/rss", "--title", "Wire").exit_code == 0
    again = run(database_url, "feeds", "add", "https://WIRE.example:443/rss/?utm_medium=mail")
    assert again.exit_code == 2
    assert again.output == (
        "error: the feed https://WIRE.example:443/rss/?utm_medium=mail is already added as "
        "https://wire.example/rss (Wire)\n"
    )
    same = run(database_url, "feeds", "add", "https://wire.example/rss")
    assert same.exit_code == 2 and same.output == "error: the feed https://wire.example/rss is already added\n"


def test_import_from_miniflux_and_rss2email_then_export(database_url: str, tmp_path: Path) -> None:
    first = run(database_url, "feeds", "import", str(OPML / "miniflux.opml"))
    assert first.exit_code == 0, first.output
    assert first.output.splitlines()[-1] == "imported 3 feeds, 0 already added, 0 unusable"
    second = run(database_url, "feeds", "import", str(OPML / "rss2email.opml"))
    assert second.exit_code == 0
    assert "added https://policy-desk.example/feed.atom" in second.output
    assert (
        "skipped: the feed https://WIRE.example:443/rss/?utm_source=r2e is already added as "
        "https://wire.example/rss (Cyber Law Wire)" in second.output
    )
    assert "error: ftp://files.example/feed.xml: not an http:// or https:// address" in second.output
    assert second.output.splitlines()[-1] == "imported 1 feeds, 1 already added, 1 unusable"

    out = tmp_path / "feeds.opml"
    exported = run(database_url, "feeds", "export", "--out", str(out))
    assert exported.exit_code == 0 and f"wrote 4 feeds to {out}" in exported.output
    urls = [f["url"] for f in listparser.parse(out.read_bytes()).feeds]
    assert urls == [
        "https://docket.example/feed.xml",
        "https://eu-policy.example/rss?lang=en",
        "https://wire.example/rss",
        "https://policy-desk.example/feed.atom",
    ]
    to_stdout = run(database_url, "feeds", "export")
    assert [f["url"] for f in listparser.parse(to_stdout.output).feeds] == urls
    # Importing our own export into a fresh installation gives the same feeds.
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert run(fresh, "db", "upgrade").exit_code == 0
    assert (
        run(fresh, "feeds", "import", str(out)).output.splitlines()[-1]
        == "imported 4 feeds, 0 already added, 0 unusable"
    )


def test_import_refuses_what_is_not_opml(database_url: str, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body>hello</body></html>")
    refused = run(database_url, "feeds", "import", str(page))
    assert refused.exit_code == 2
    assert refused.output == f"error: {page}: not an OPML subscription list: it has no <opml> element\n"
    unwritable = run(database_url, "feeds", "export", "--out", str(tmp_path / "missing" / "x.opml"))
    assert unwritable.exit_code == 2 and "cannot write" in unwritable.output and "Traceback" not in unwritable.output


def test_discover_lists_a_sites_feeds(database_url: str, feed_server: FeedServer) -> None:
    page = b'<head><link rel="alternate" type="application/rss+xml" title="News" href="/news.xml"></head>'
    site = feed_server.add("/", Route(page, headers={"Content-Type": "text/html"}))
    found = run(database_url, "feeds", "discover", site)
    assert found.exit_code == 0 and found.output == f"{site}news.xml\tRSS\tNews\n"
    nothing = run(database_url, "feeds", "discover", feed_server.url("/missing"))
    assert nothing.exit_code == 1 and "HTTP 404" in nothing.output
    assert run(database_url, "feeds", "discover", "not a url").exit_code == 2


def test_a_round_trip_through_rss2email(database_url: str, tmp_path: Path) -> None:
    """Our export imported by rss2email itself, its export imported back: the same feeds."""
    for url, title in (("https://wire.example/rss?a=1&b=2", "Wire <&> Law"), ("https://desk.example/feed", "Desk")):
        assert run(database_url, "feeds", "add", url, "--title", title).exit_code == 0
    ours = tmp_path / "ours.opml"
    assert run(database_url, "feeds", "export", "--out", str(ours)).exit_code == 0
    r2e = [
        str(Path(sys.executable).with_name("r2e")),
        "-c",
        str(tmp_path / "r2e.cfg"),
        "-d",
        str(tmp_path / "r2e.json"),
    ]
    subprocess.run([*r2e, "new", "reader@example.org"], check=True, capture_output=True, timeout=60)
    subprocess.run([*r2e, "opmlimport", str(ours)], check=True, capture_output=True, timeout=60)
    listed = subprocess.run([*r2e, "list"], check=True, capture_output=True, text=True, timeout=60).stdout
    assert "https://wire.example/rss?a=1&b=2" in listed and "https://desk.example/feed" in listed
    theirs = tmp_path / "theirs.opml"
    theirs.write_bytes(subprocess.run([*r2e, "opmlexport"], check=True, capture_output=True, timeout=60).stdout)
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert run(fresh, "db", "upgrade").exit_code == 0
    back = run(fresh, "feeds", "import", str(theirs))
    assert back.output.splitlines()[-1] == "imported 2 feeds, 0 already added, 0 unusable"
    assert "added https://wire.example/rss?a=1&b=2" in back.output and "added https://desk.example/feed" in back.output
    again = run(database_url, "feeds", "import", str(theirs))
    assert again.output.splitlines()[-1] == "imported 0 feeds, 2 already added, 0 unusable"

"""The console's feeds over real HTTP: add, refuse duplicates, edit, delete, pause, poll, discover, OPML."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import listparser
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from digest.db.engine import session_scope
from digest.feeds import store, story_store
from digest.tagging.rules import Ruleset
from tests.conftest import ROOT
from tests.digests.helpers import ingest
from tests.httpserver import FeedServer, Route
from tests.web.conftest import csrf, notice

SAMPLES = ROOT / "config" / "sample-feeds"
OPML = Path(__file__).resolve().parents[1] / "feeds" / "opml"


def test_adding_a_feed_and_refusing_it_under_another_spelling(editor_client: TestClient, engine: Engine) -> None:
    page = editor_client.get("/editor/feeds")
    assert page.status_code == 200 and "Health at a glance: 0 feeds" in page.text
    token = csrf(page.text)
    added = editor_client.post(
        "/editor/feeds", data={"csrf": token, "url": "https://wire.example/rss", "title": "Wire"}, follow_redirects=True
    )
    assert notice(added.text) == "success: Done: feed Wire Added; it is polled at the next poll."
    assert notice(editor_client.get("/editor/feeds").text) == ""  # shown once
    again = editor_client.post(
        "/editor/feeds", data={"csrf": token, "url": "http://WIRE.example:80/rss/?utm_source=x", "title": "Mine"}
    )
    assert again.status_code == 400
    assert notice(again.text) == (
        "error: Not done: adding a feed The feed http://WIRE.example:80/rss/?utm_source=x is already added "
        "as https://wire.example/rss (Wire)."
    )
    assert 'value="http://WIRE.example:80/rss/?utm_source=x"' in again.text and 'value="Mine"' in again.text
    bad = editor_client.post("/editor/feeds", data={"csrf": token, "url": "javascript:x", "title": "T"})
    assert bad.status_code == 400 and "is not a feed address" in notice(bad.text) and 'value="javascript:x"' in bad.text
    assert editor_client.post("/editor/feeds", data={"url": "https://other.example/rss"}).status_code == 403
    with session_scope(engine) as s:
        assert [f.url for f, _n in store.list_feeds(s)] == ["https://wire.example/rss"]


def test_editing_a_feed_keeps_what_was_typed_when_it_is_wrong(editor_client: TestClient, engine: Engine) -> None:
    with session_scope(engine) as s:
        wire = store.add_feed(s, "https://wire.example/rss", "Wire", datetime.now(UTC)).id
        store.add_feed(s, "https://desk.example/feed.atom", "Desk", datetime.now(UTC))
    form = editor_client.get(f"/editor/feeds/{wire}/edit")
    assert form.status_code == 200 and 'value="https://wire.example/rss"' in form.text
    token = csrf(form.text)
    wrong = editor_client.post(
        f"/editor/feeds/{wire}/edit",
        data={"csrf": token, "url": "https://wire.example/rss", "title": "Wire (new)", "interval": "often"},
    )
    assert wrong.status_code == 400
    assert "The interval is a number of minutes from 1 to 10080, not 'often'" in notice(wrong.text)
    assert 'value="Wire (new)"' in wrong.text and 'value="often"' in wrong.text
    taken = editor_client.post(
        f"/editor/feeds/{wire}/edit",
        data={"csrf": token, "url": "https://DESK.example/feed.atom/", "title": "Wire", "interval": ""},
    )
    assert taken.status_code == 400 and "is already added as https://desk.example/feed.atom (Desk)" in notice(
        taken.text
    )
    saved = editor_client.post(
        f"/editor/feeds/{wire}/edit",
        data={"csrf": token, "url": "https://wire.example/v2/rss", "title": "Wire Two", "interval": "30"},
        follow_redirects=True,
    )
    assert notice(saved.text) == "success: Done: feed Wire Two Saved."
    assert "every 30 min" in saved.text
    with session_scope(engine) as s:
        feed = store.feed_by_id(s, wire)
        assert (feed.url, feed.title, feed.interval_minutes, feed.status) == (
            "https://wire.example/v2/rss",
            "Wire Two",
            30,
            "new",
        )


def test_deleting_a_feed_keeps_its_stories_and_says_so(
    editor_client: TestClient, engine: Engine, ruleset: Ruleset
) -> None:
    ingest(engine, ruleset, (SAMPLES / "policy-desk.xml").read_bytes(), datetime.now(UTC))
    with session_scope(engine) as s:
        feed_id = store.get_feed(s, "https://wire.example/rss").id
        before = story_store.count_stories(s)
    edit = editor_client.get(f"/editor/feeds/{feed_id}/edit")
    assert f"Its {before} stories stay in the stories list" in edit.text
    deleted = editor_client.post(
        f"/editor/feeds/{feed_id}/delete", data={"csrf": csrf(edit.text)}, follow_redirects=True
    )
    assert notice(deleted.text) == (
        f"success: Done: feed Wire Deleted; its {before} stories stay in the stories list and in digests."
    )
    with session_scope(engine) as s:
        assert store.list_feeds(s) == [] and story_store.count_stories(s) == before
    stories = editor_client.get("/editor/stories")
    assert "no feed now" in stories.text and f"{before} stories" in stories.text
    gone = editor_client.post(f"/editor/feeds/{feed_id}/delete", data={"csrf": csrf(edit.text)}, follow_redirects=True)
    assert notice(gone.text) == f"error: Not done: deleting a feed No feed has id {feed_id}"


def test_pausing_resuming_and_polling_say_which_feed(
    editor_client: TestClient, engine: Engine, feed_server: FeedServer
) -> None:
    url = feed_server.add(
        "/wire.xml",
        Route((SAMPLES / "cyberlaw-wire.xml").read_bytes(), headers={"Content-Type": "application/rss+xml"}),
    )
    broken = feed_server.add("/broken.xml", Route(b"<html>no</html>", headers={"Content-Type": "text/html"}))
    with session_scope(engine) as s:
        feed_id = store.add_feed(s, url, None, datetime.now(UTC)).id
        broken_id = store.add_feed(s, broken, "Broken", datetime.now(UTC)).id
    token = csrf(editor_client.get("/editor/feeds").text)
    polled = editor_client.post(f"/editor/feeds/{feed_id}/poll", data={"csrf": token}, follow_redirects=True)
    assert notice(polled.text) == f"success: Done: feed {url} Polled: ok (6 new, 0 updated)"
    assert "Cyber Law Wire" in polled.text
    failed = editor_client.post(f"/editor/feeds/{broken_id}/poll", data={"csrf": token}, follow_redirects=True)
    assert notice(failed.text).startswith("error: Not done: feed Broken The poll failed: not a feed")
    paused = editor_client.post(f"/editor/feeds/{feed_id}/pause", data={"csrf": token}, follow_redirects=True)
    assert notice(paused.text) == "success: Done: feed Cyber Law Wire Paused: it is not polled until you resume it."
    assert "status-paused" in paused.text
    resumed = editor_client.post(f"/editor/feeds/{feed_id}/resume", data={"csrf": token}, follow_redirects=True)
    assert notice(resumed.text) == "success: Done: feed Cyber Law Wire Resumed."


def test_finding_a_sites_feeds_and_adding_one(editor_client: TestClient, feed_server: FeedServer) -> None:
    page = (
        b'<html><head><link rel="alternate" type="application/atom+xml" title="Court news" href="/courts.atom">'
        b"</head><body>Hello</body></html>"
    )
    site = feed_server.add("/", Route(page, headers={"Content-Type": "text/html"}))
    bare = feed_server.add("/bare", Route(b"<html><body>none</body></html>", headers={"Content-Type": "text/html"}))
    token = csrf(editor_client.get("/editor/feeds").text)
    found = editor_client.post("/editor/feeds/discover", data={"csrf": token, "site": site})
    assert found.status_code == 200 and notice(found.text).startswith("success: Done: finding feeds Found 1 feed")
    assert f'name="url" value="{site}courts.atom"' in found.text and "Court news" in found.text
    none = editor_client.post("/editor/feeds/discover", data={"csrf": token, "site": bare})
    assert none.status_code == 400 and "announces no RSS or Atom feed" in notice(none.text)
    assert f'value="{bare}"' in none.text


def test_opml_import_and_export_round_trip(editor_client: TestClient, engine: Engine) -> None:
    with session_scope(engine) as s:
        store.add_feed(s, "https://wire.example/rss", "Wire", datetime.now(UTC))
    token = csrf(editor_client.get("/editor/feeds").text)
    files = {"file": ("miniflux.opml", (OPML / "miniflux.opml").read_bytes(), "text/x-opml")}
    imported = editor_client.post("/editor/feeds/import", data={"csrf": token}, files=files, follow_redirects=True)
    assert notice(imported.text) == (
        "success: Done: importing OPML Added 2, already there 1, unusable 0. "
        "the feed https://wire.example/rss is already added"
    )
    exported = editor_client.get("/editor/feeds/export")
    assert exported.headers["content-disposition"] == 'attachment; filename="digest-feeds.opml"'
    assert [(f["url"], f["title"]) for f in listparser.parse(exported.content).feeds] == [
        ("https://wire.example/rss", "Wire"),
        ("https://docket.example/feed.xml", "Docket Watch"),
        ("https://eu-policy.example/rss?lang=en", "EU Policy & Law"),
    ]
    junk = {"file": ("page.html", b"<html>not opml</html>", "text/html")}
    refused = editor_client.post("/editor/feeds/import", data={"csrf": token}, files=junk)
    assert refused.status_code == 400
    assert notice(refused.text) == (
        "error: Not done: importing OPML Not an OPML subscription list: it has no <opml> element"
    )

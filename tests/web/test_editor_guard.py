"""The editor console's add-feed form with the private-address guard on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from digest.config import FeedSettings, Settings
from digest.db.engine import session_scope
from digest.editors import store as editors
from digest.feeds import store
from digest.tagging.rules import Ruleset
from digest.web.app import create_app
from tests.httpserver import FeedServer, Route
from tests.web.test_editor import PASSWORD, csrf


@pytest.fixture
def guarded_editor(web_settings: Settings, engine: Engine, ruleset: Ruleset) -> Iterator[TestClient]:
    settings = web_settings.model_copy(update={"feeds": FeedSettings()})  # the default: guard on
    with session_scope(engine) as s:
        editors.set_editor(s, "alice", PASSWORD, datetime.now(UTC))
    with TestClient(create_app(settings, engine, ruleset), follow_redirects=False) as client:
        assert client.post("/editor/login", data={"username": "alice", "password": PASSWORD}).status_code == 303
        yield client


@pytest.mark.parametrize(
    "form",
    ["http://127.0.0.1:{port}/feed.xml", "http://localhost:{port}/feed.xml", "http://[::ffff:7f00:1]:{port}/feed.xml"],
)
def test_the_add_feed_form_refuses_private_addresses(
    guarded_editor: TestClient, engine: Engine, feed_server: FeedServer, form: str
) -> None:
    feed_server.add("/feed.xml", Route(b"<rss/>"))
    url = form.format(port=feed_server.port)
    page = guarded_editor.get("/editor/feeds")
    answer = guarded_editor.post("/editor/feeds", data={"csrf": csrf(page.text), "url": url}, follow_redirects=True)
    assert "refused: " in answer.text.lower() and "a loopback address" in answer.text
    assert f"Added {url}" not in answer.text
    with session_scope(engine) as s:
        assert store.list_feeds(s) == []
    assert feed_server.connections == 0

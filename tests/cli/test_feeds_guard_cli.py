"""``digest feeds add`` with the private-address guard on: private feeds are refused in one line, exit 2."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_feeds_cli import run
from tests.httpserver import FeedServer, Route

GUARD_ON = {"DIGEST_FEEDS__ALLOW_PRIVATE_NETWORKS": "false"}
FORMS = [
    "http://127.0.0.1:{port}/feed.xml",
    "http://localhost:{port}/feed.xml",
    "http://[::ffff:127.0.0.1]:{port}/feed.xml",
    "http://2130706433:{port}/feed.xml",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/feed.xml",
]


@pytest.mark.parametrize("form", FORMS)
def test_feeds_on_private_addresses_are_refused(database_url: str, feed_server: FeedServer, form: str) -> None:
    feed_server.add("/feed.xml", Route(b"<rss/>"))
    url = form.format(port=feed_server.port)
    refused = run(database_url, "feeds", "add", url, env=GUARD_ON)
    assert refused.exit_code == 2, refused.output
    assert refused.output.startswith("error: refused: ") and refused.output.count("\n") == 1
    assert "Traceback" not in refused.output
    assert refused.output.rstrip().endswith("is not added (set feeds.allow_private_networks on a closed network)")
    assert json.loads(run(database_url, "feeds", "list", "--json").output) == []
    assert feed_server.connections == 0


def test_the_setting_lets_a_closed_deployment_add_them(database_url: str, feed_server: FeedServer) -> None:
    url = feed_server.add("/feed.xml", Route(b"<rss/>"))
    assert run(database_url, "feeds", "add", url, env={"DIGEST_FEEDS__ALLOW_PRIVATE_NETWORKS": "true"}).exit_code == 0
    assert [f["url"] for f in json.loads(run(database_url, "feeds", "list", "--json").output)] == [url]

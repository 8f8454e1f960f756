"""Several ``digest`` commands writing to one SQLite file at once, as real processes.

Cron jobs, an editor at a shell and a scheduler all run commands against the default SQLite file;
they must queue for the write lock instead of failing with "database is locked", and pollers that
overlap must merge their stories instead of failing on the unique keys.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from digest.config import FeedSettings
from digest.db.engine import make_engine, session_scope
from digest.feeds import store
from tests.conftest import TOPICS
from tests.httpserver import FeedServer, Route, SeenRequest

pytestmark = pytest.mark.reliability

FEEDS = 6
SHARED = 5  # entries 0..4 of every feed point to the same five articles: one story each, FEEDS sources
OWN = 5  # entries 5..9 are each feed's own
# The feed server listens on 127.0.0.1. Once feed fetching refuses private addresses unless
# `feeds.allow_private_networks` is on, the commands need it; before that setting exists it is left
# out, because an unknown setting stops every command.
PRIVATE_NETWORKS_ENV = (
    {"DIGEST_FEEDS__ALLOW_PRIVATE_NETWORKS": "true"}
    if "allow_private_networks" in {f.name for f in dataclasses.fields(FeedSettings)}
    else {}
)


def rss(index: int) -> bytes:
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    items = []
    for j in range(SHARED + OWN):
        link = f"https://outlet.example/shared/{j}" if j < SHARED else f"https://feed{index}.example/own/{j}"
        items.append(
            f"<item><title>Story {j} as told by feed {index}</title><link>{link}</link>"
            f"<guid isPermaLink='false'>feed{index}-{j}</guid>"
            f"<pubDate>{format_datetime(now - timedelta(minutes=j))}</pubDate>"
            f"<description>Court hears the case, part {j}.</description></item>"
        )
    return (
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>Feed {index}</title>"
        f"<link>https://feed{index}.example/</link>{''.join(items)}</channel></rss>"
    ).encode()


@pytest.fixture
def served(feed_server: FeedServer) -> Iterator[list[str]]:
    # A short delay per answer makes the pollers' fetches and stores overlap.
    yield [feed_server.add(f"/feed{i}.xml", Route(rss(i), delay=0.05)) for i in range(FEEDS)]


@pytest.fixture
def env(sqlite_template: Path, tmp_path: Path) -> dict[str, str]:
    database = tmp_path / "digest.db"
    shutil.copy(sqlite_template, database)
    return {
        **os.environ,
        "DIGEST_DATABASE_URL": f"sqlite:///{database}",
        "DIGEST_TOPICS_FILE": str(TOPICS),
        **PRIVATE_NETWORKS_ENV,
    }


def held_until(requests: int, route: Route) -> Callable[[SeenRequest], Route]:
    """A route that answers nobody until ``requests`` requests for it arrived (within the fetch timeout)."""
    everyone = threading.Barrier(requests)

    def answer(_seen: SeenRequest) -> Route:
        everyone.wait(timeout=25)
        return route

    return answer


def start_together(env: dict[str, str], cwd: Path, commands: list[list[str]]) -> list[tuple[int, str, str]]:
    """Start every command at once; (exit status, stdout, stderr) of each, in order."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "digest", *command],
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=180)
        results.append((process.returncode, out, err))
    return results


def assert_clean(results: list[tuple[int, str, str]]) -> None:
    for status, out, err in results:
        text = out + err
        assert status == 0, text
        for sign in ("Traceback", "database is locked", "IntegrityError", "could not be stored", "failed "):
            assert sign not in text, text


def digest_json(env: dict[str, str], cwd: Path, *args: str) -> object:
    done = subprocess.run(
        [sys.executable, "-m", "digest", *args], env=env, cwd=cwd, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def assert_every_story_once(env: dict[str, str], cwd: Path, urls: list[str]) -> None:
    stories = digest_json(env, cwd, "stories", "list", "--json", "--limit", "1000")
    assert isinstance(stories, list)
    links = Counter(story["link"] for story in stories)
    expected = {f"https://outlet.example/shared/{j}" for j in range(SHARED)}
    expected |= {f"https://feed{i}.example/own/{j}" for i in range(FEEDS) for j in range(SHARED, SHARED + OWN)}
    assert set(links) == expected
    assert set(links.values()) == {1}  # no story twice
    for story in stories:
        sources = sorted(source["feed_url"] for source in story["sources"])
        if story["link"].startswith("https://outlet.example/shared/"):
            assert sources == sorted(urls)  # one story, a source from every feed
        else:
            assert len(sources) == 1


def test_adds_and_pollers_at_once_lose_nothing(
    served: list[str], env: dict[str, str], tmp_path: Path, feed_server: FeedServer
) -> None:
    readers = [f"reader{i}@example.org" for i in range(5)]
    adds = [["feeds", "add", url] for url in served]
    adds += [["subscribers", "add", reader, "--topics", "deepfakes", "--confirmed"] for reader in readers[:3]]
    assert_clean(start_together(env, tmp_path, adds))

    # Five pollers and more subscribers at the same moment: every due feed is polled by exactly one.
    later = [["subscribers", "add", reader, "--topics", "ai-misuse"] for reader in readers[3:]]
    results = start_together(env, tmp_path, [["poll"]] * 5 + later)
    assert_clean(results)
    polled = [int(out.split("polled ")[1].split(" feed")[0]) for _, out, _ in results[:5]]
    assert sum(polled) == FEEDS, [out for _, out, _ in results]
    assert all(len(feed_server.hits(f"/feed{i}.xml")) == 1 for i in range(FEEDS))
    assert_every_story_once(env, tmp_path, served)  # every feed added and polled
    people = digest_json(env, tmp_path, "subscribers", "list", "--json", "--show-addresses")
    assert isinstance(people, dict)
    assert sorted(p["email"] for p in people["subscribers"]) == readers


def test_pollers_of_the_same_feeds_at_once_merge_their_stories(
    served: list[str], env: dict[str, str], tmp_path: Path, feed_server: FeedServer
) -> None:
    engine = make_engine(env["DIGEST_DATABASE_URL"])
    with session_scope(engine) as session:
        for url in served:
            store.add_feed(session, url, None, datetime.now(UTC))
    engine.dispose()
    # --all polls every feed in every process. Each feed is answered only once all four pollers asked
    # for it, so the four store the same entries at the same moment.
    pollers = 4
    for i in range(FEEDS):
        feed_server.add(f"/feed{i}.xml", held_until(pollers, Route(rss(i))))
    results = start_together(env, tmp_path, [["poll", "--all"]] * pollers)
    assert_clean(results)
    assert all(len(feed_server.hits(f"/feed{i}.xml")) == pollers for i in range(FEEDS))
    new = sum(int(out.split("; ")[1].split(" new")[0]) for _, out, _ in results)
    assert new == SHARED + FEEDS * OWN  # each story was new to exactly one of the pollers
    assert_every_story_once(env, tmp_path, served)

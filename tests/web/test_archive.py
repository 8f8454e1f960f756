"""The public archive on a real database: sent editions as web pages, an Atom feed per topic (read
back with feedparser), the "View in the browser" link of every mail, and no personal data anywhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from digest.config import ArchiveSettings, Settings
from digest.db.engine import session_scope
from digest.digests import review
from digest.digests.build import plan_edition
from digest.digests.deliver import deliver_queued
from digest.digests.editions import edition_for, short_name
from digest.feeds.models import Story
from digest.subscribers.links import make_signer
from digest.tagging.rules import Ruleset
from digest.web.app import create_app
from tests.digests.helpers import ingest, rss, subscribe
from tests.mailbox import html_of, messages, text_of

NEWS = rss(
    ("Court jails man who cloned his boss's voice with a deepfake", "https://wire.example/1", "<p>AI tool.</p>"),
    ("Regulator fines app over children's data", "https://wire.example/2", "<p>Users under 13.</p>"),
    ("Police warn of AI nudes used to blackmail teenagers", "https://wire.example/4", "<p>Sextortion.</p>"),
    ("Deepfake robocall of the mayor investigated", "https://wire.example/5", "<p>Voters misled.</p>"),
)
READERS = {
    "deep.reader@example.org": ["deepfakes"],
    "kids.reader@example.org": ["child-protection", "deepfakes"],
    "third.reader@example.org": ["deepfakes"],
}
PERSONAL = re.compile(r"/unsubscribe/|/preferences/|/confirm/|[\w.+-]+@[\w-]+\.[\w.-]+")
VIEW = re.compile(r"View in the browser: (\S+)")


def send_edition(engine: Engine, settings: Settings, ruleset: Ruleset, now: datetime) -> None:
    plan_edition(engine, settings, ruleset, now)
    deliver_queued(engine, settings, ruleset, make_signer(settings, engine))


def story_id(engine: Engine, words: str) -> int:
    with session_scope(engine, read_only=True) as s:
        found = s.scalar(select(Story.id).where(Story.title.contains(words)))
    assert found is not None
    return found


@pytest.fixture
def newsroom(engine: Engine, web_settings: Settings, ruleset: Ruleset) -> datetime:
    now = datetime.now(UTC)
    for email, topics in READERS.items():
        subscribe(engine, web_settings, email, topics, "daily", now - timedelta(days=1), ruleset)
    ingest(engine, ruleset, NEWS, now - timedelta(minutes=5))
    return now


@pytest.fixture
def sent(newsroom: datetime, engine: Engine, web_settings: Settings, ruleset: Ruleset, outbox: Path) -> str:
    """The daily edition sent to every reader; returns its name."""
    edition = edition_for("daily", newsroom, web_settings.digest.timezone)
    with session_scope(engine) as s:
        review.set_lead(s, edition, story_id(engine, "robocall"), "alice", newsroom)
        review.exclude(s, edition, story_id(engine, "blackmail"), "alice", newsroom, keep_for_next=False)
        review.set_note(
            s, edition, None, "Good morning: **three** stories today.", "bob", newsroom, list(ruleset.slugs)
        )
    send_edition(engine, web_settings, ruleset, newsroom)
    assert len(messages(outbox)) == len(READERS)
    return short_name(edition)


def crawl(client: TestClient) -> Iterator[tuple[str, str]]:
    """Every archive page and feed reachable from /archive/ (and from the feeds' entries)."""
    seen: set[str] = set()
    todo = ["/archive/"]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        answer = client.get(path)
        assert answer.status_code == 200, path
        yield path, answer.text
        todo += re.findall(r'href="(/archive/[^"]+)"', answer.text)
        todo += [
            re.sub(r"^https?://[^/]+", "", href)
            for href in re.findall(r'href="(http://testserver/archive/[^"]+)"', answer.text)
        ]


def test_every_mail_links_to_its_editions_page_in_the_archive(
    sent: str, client: TestClient, outbox: Path, web_settings: Settings
) -> None:
    for mail in messages(outbox):
        text, html = text_of(mail), html_of(mail)
        found = VIEW.search(text)
        assert found is not None, "no View in the browser link"
        url = found.group(1)
        topics = "+".join(READERS[mail["To"]])
        assert url == f"{web_settings.base_url}/archive/{sent}/{topics}"
        assert re.search(f'<a href="{re.escape(url)}"[^>]*>View in the browser</a>', html)
        page = client.get(url.removeprefix(web_settings.base_url))
        assert page.status_code == 200
        # The same digest: the subject, every headline it links to, in the same order, and the note.
        headlines = re.findall(r'<a href="(https://wire\.example/\d)"', html)
        assert headlines and re.findall(r'<a href="(https://wire\.example/\d)"', page.text) == headlines
        assert f"<title>{mail['Subject'].replace(chr(39), '&#39;')}</title>" in page.text
        assert "Lead story" in page.text and "<strong>three</strong>" in page.text
        assert "blackmail" not in page.text  # excluded by the editor: not in the mail, not in the archive
        assert "script-src" not in page.headers["content-security-policy"]
        assert "default-src 'none'" in page.headers["content-security-policy"]


def test_the_archive_lists_editions_and_shows_nothing_personal(
    sent: str, client: TestClient, outbox: Path, engine: Engine
) -> None:
    index = client.get("/archive/")
    assert index.status_code == 200
    assert f'href="/archive/{sent}/deepfakes"' in index.text
    assert f'href="/archive/{sent}/child-protection+deepfakes"' in index.text
    # Feed readers find the feeds from the page itself.
    assert '<link rel="alternate" type="application/atom+xml" href="/archive/deepfakes.atom"' in index.text
    personal = {
        link
        for mail in messages(outbox)
        for link in re.findall(r"https?://\S+/(?:unsubscribe|preferences)/\S+", text_of(mail))
    }
    assert personal  # the mails do carry them...
    pages = dict(crawl(client))
    assert len(pages) >= 6  # index, two group pages, three topic feeds, a derived single-topic page
    for path, body in pages.items():
        assert PERSONAL.findall(body) == [], path  # ...the archive never: no link, no address
        assert not any(link in body for link in personal), path
        assert all(address not in body for address in READERS), path


def test_each_topic_has_an_atom_feed_of_its_editions(sent: str, client: TestClient, ruleset: Ruleset) -> None:
    answer = client.get("/archive/deepfakes.atom")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(answer.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10" and feed.feed.title == "Cybersecurity Law Digest: Deepfakes"
    (entry,) = feed.entries
    assert entry.link == f"http://testserver/archive/{sent}/deepfakes"
    assert entry.title.startswith("Deepfakes, ")
    content = entry.content[0].value
    assert "Deepfake robocall of the mayor investigated" in content and "cloned his boss" in content
    assert "blackmail" not in content and "Regulator fines app" not in content  # another topic's story
    assert client.get(entry.link.removeprefix("http://testserver")).status_code == 200
    # No reader chose AI misuse, but the deepfake stories carry it: its feed has the edition too.
    implied = feedparser.parse(client.get("/archive/ai-misuse.atom").content)
    assert [e.link for e in implied.entries] == [f"http://testserver/archive/{sent}/ai-misuse"]
    child = feedparser.parse(client.get("/archive/child-protection.atom").content)
    assert [e.link for e in child.entries] == [f"http://testserver/archive/{sent}/child-protection"]
    assert "Regulator fines app" in child.entries[0].content[0].value


def test_addresses_that_name_no_edition_or_topic_are_not_found(sent: str, client: TestClient) -> None:
    for path in (
        "/archive/2026-13-45/deepfakes",
        "/archive/1999-01-01/deepfakes",
        f"/archive/{sent}/cats",
        f"/archive/{sent}/deepfakes+child-protection",  # one spelling per group
        f"/archive/{sent}/",
        "/archive/cats.atom",
    ):
        assert client.get(path).status_code == 404, path


def test_with_the_archive_off_there_are_no_pages_feeds_or_links(
    newsroom: datetime, engine: Engine, web_settings: Settings, ruleset: Ruleset, outbox: Path
) -> None:
    settings = web_settings.model_copy(update={"archive": ArchiveSettings(enabled=False)})
    send_edition(engine, settings, ruleset, newsroom)
    mails = messages(outbox)
    assert mails and all("View in the browser" not in text_of(m) + html_of(m) for m in mails)
    assert all("/archive/" not in text_of(m) + html_of(m) for m in mails)
    with TestClient(create_app(settings, engine, ruleset)) as client:
        edition = short_name(edition_for("daily", newsroom, settings.digest.timezone))
        for path in ("/archive/", "/archive/deepfakes.atom", f"/archive/{edition}/deepfakes"):
            assert client.get(path).status_code == 404, path


def test_before_the_first_send_the_archive_says_so_and_feeds_are_empty(client: TestClient) -> None:
    assert "No edition has been sent yet." in client.get("/archive/").text
    feed = feedparser.parse(client.get("/archive/deepfakes.atom").content)
    assert not feed.bozo and feed.version == "atom10" and feed.entries == []

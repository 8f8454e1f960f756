"""De-duplication and in-place updates, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select

from digest.db.engine import session_scope
from digest.feeds import entry_store, store, story_store
from digest.feeds.models import Story, StorySource
from digest.feeds.normalise import content_hash
from digest.feeds.parse import ParsedEntry

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def entry(title: str, link: str | None = None, guid: str | None = None, summary: str = "text") -> ParsedEntry:
    return ParsedEntry(
        title=title,
        link=link,
        guid=guid,
        author=None,
        published_at=NOW - timedelta(hours=1),
        summary_text=summary,
        summary_html=f"<p>{summary}</p>",
        content_html="",
        content_hash=content_hash(title, summary),
    )


def add_feeds(engine: Engine, *urls: str) -> list[int]:
    with session_scope(engine) as s:
        return [store.add_feed(s, url, None, NOW).id for url in urls]


def save(engine: Engine, feed_id: int, *entries: ParsedEntry, now: datetime = NOW) -> entry_store.SaveCounts:
    with session_scope(engine) as s:
        return entry_store.save_entries(s, feed_id, list(entries), now)


def count(engine: Engine, model: type[Story] | type[StorySource]) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_new_entries_are_stored_once(engine: Engine) -> None:
    (feed,) = add_feeds(engine, "https://a.example/feed")
    a, b = entry("A", "https://a.example/1", "g1"), entry("B", "https://a.example/2", "g2")
    assert save(engine, feed, a, b) == entry_store.SaveCounts(new=2)
    assert save(engine, feed, a, b) == entry_store.SaveCounts(unchanged=2)
    assert count(engine, Story) == 2


def test_an_updated_entry_updates_its_story_in_place(engine: Engine) -> None:
    (feed,) = add_feeds(engine, "https://a.example/feed")
    original = entry("Draft title", "https://a.example/1", "g1")
    save(engine, feed, original)
    revised = replace(entry("Final title", "https://a.example/1", "g1", "more text"))
    later = NOW + timedelta(hours=2)
    assert save(engine, feed, revised, now=later) == entry_store.SaveCounts(updated=1)
    with session_scope(engine) as s:
        (story,) = s.scalars(select(Story)).all()
        assert (story.title, story.summary_text, story.updated_at, story.first_seen_at) == (
            "Final title",
            "more text",
            later,
            NOW,
        )


def test_without_guid_the_link_identifies_the_entry_and_else_the_content(engine: Engine) -> None:
    (feed,) = add_feeds(engine, "https://a.example/feed")
    by_link = entry("Linked", "https://a.example/1")
    by_text = entry("No link, no guid", summary="only words")
    assert save(engine, feed, by_link, by_text) == entry_store.SaveCounts(new=2)
    assert save(engine, feed, replace(by_link, title="Linked, retitled", content_hash="x"), by_text) == (
        entry_store.SaveCounts(updated=1, unchanged=1)
    )
    with session_scope(engine) as s:
        keys = sorted(s.scalars(select(StorySource.dedup_key)))
    assert keys[0].startswith("hash:") and keys[1] == "link:https://a.example/1"


def test_the_same_link_from_two_feeds_is_one_story_with_two_sources(engine: Engine) -> None:
    first, second = add_feeds(engine, "https://wire.example/rss", "https://desk.example/atom")
    save(engine, first, entry("Deepfake bill passes", "https://desk.example/bill", "wire-1"))
    counts = save(engine, second, entry("Lawmakers pass deepfake bill", "https://desk.example/bill", "tag:desk,1"))
    assert counts == entry_store.SaveCounts(merged=1)
    with session_scope(engine) as s:
        (story,) = story_store.list_stories(s)
        assert sorted((src.feed.url, src.guid) for src in story.sources) == [
            ("https://desk.example/atom", "tag:desk,1"),
            ("https://wire.example/rss", "wire-1"),
        ]
    assert save(engine, second, entry("Lawmakers pass deepfake bill", "https://desk.example/bill", "tag:desk,1")) == (
        entry_store.SaveCounts(unchanged=1)
    )


def test_entries_of_one_feed_behind_one_link_stay_separate(engine: Engine) -> None:
    (docket,) = add_feeds(engine, "https://court.example/rss")
    filings = [entry(f"Case 1:18-cv-1 filing {i}", "https://court.example/case/1", f"filing-{i}") for i in range(3)]
    assert save(engine, docket, *filings) == entry_store.SaveCounts(new=3)
    assert count(engine, Story) == 3


def test_a_feed_listing_an_entry_twice_stores_it_once(engine: Engine) -> None:
    (feed,) = add_feeds(engine, "https://a.example/feed")
    twice = entry("A", "https://a.example/1", "g1")
    assert save(engine, feed, twice, twice) == entry_store.SaveCounts(new=1)


def test_large_batches_work_within_parameter_limits(engine: Engine) -> None:
    (feed,) = add_feeds(engine, "https://a.example/feed")
    many = [entry(f"Story {i}", f"https://a.example/{i}", f"g{i}") for i in range(1200)]
    assert save(engine, feed, *many).new == 1200
    assert save(engine, feed, *many).unchanged == 1200


def test_feeds_stored_together_give_what_they_give_one_after_another(engine: Engine) -> None:
    wire, desk, docket = add_feeds(
        engine, "https://wire.example/rss", "https://desk.example/atom", "https://c.example/"
    )
    old = entry("Old story, revised", "https://wire.example/old", "wire-0")
    save(engine, wire, replace(old, content_hash="before"))
    filings = [entry(f"Filing {i}", "https://c.example/case", f"f{i}") for i in range(2)]
    batch = [
        entry_store.FeedEntries(wire, [old, entry("Bill passes", "https://desk.example/bill", "wire-1")], NOW),
        entry_store.FeedEntries(desk, [entry("Lawmakers pass bill", "https://desk.example/bill", "desk-1")], NOW),
        entry_store.FeedEntries(docket, filings, NOW),
    ]
    with session_scope(engine) as s:
        counts = entry_store.save_feeds(s, batch)
    # The desk's entry merges with the story the wire's entry created in the same transaction.
    assert counts == [
        entry_store.SaveCounts(new=1, updated=1),
        entry_store.SaveCounts(merged=1),
        entry_store.SaveCounts(new=2),
    ]
    assert count(engine, Story) == 4
    assert count(engine, StorySource) == 5
    with session_scope(engine) as s:
        (bill,) = [st for st in story_store.list_stories(s) if st.link == "https://desk.example/bill"]
        assert bill.title == "Bill passes" and len(bill.sources) == 2

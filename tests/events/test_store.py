"""Grouping stored stories, incrementally, with editors' merges and splits kept across re-grouping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select, update

from digest.db.engine import session_scope
from digest.events import store
from digest.events.features import extract_features, load_features
from digest.events.group import Event, events_since, group_new_stories, regroup_window
from digest.events.measure import Labelled, load_labelled
from digest.events.models import StoryEvent
from digest.feeds import entry_store
from digest.feeds import store as feed_store
from digest.feeds.models import Story
from digest.feeds.normalise import content_hash
from digest.feeds.parse import ParsedEntry

NOW = datetime(2025, 7, 26, tzinfo=UTC)
WEEK = [
    d for d in load_labelled(Path(__file__).parent / "dev.jsonl") if NOW - timedelta(days=7) <= d.story.published < NOW
]


def save(engine: Engine, stories: list[Labelled]) -> dict[str, int]:
    """Stores the labelled stories as entries of one feed per outlet; returns label id -> story id."""
    with session_scope(engine) as s:
        feeds = {f.url.split("//")[1].split(".")[0]: f.id for f, _n in feed_store.list_feeds(s)}
        for d in stories:
            if d.story.source not in feeds:
                feeds[d.story.source] = feed_store.add_feed(s, f"https://{d.story.source}.example/feed", None, NOW).id
            entry = ParsedEntry(
                title=d.story.title,
                link=f"https://{d.story.source}.example/{d.story.key}",
                guid=d.story.key,
                author=None,
                published_at=d.story.published,
                summary_text=d.story.summary,
                summary_html=d.story.summary,
                content_html="",
                content_hash=content_hash(d.story.title, d.story.summary),
            )
            entry_store.save_entries(s, feeds[d.story.source], [entry], NOW)
        rows = s.execute(select(Story.id, Story.title)).all()
    by_title = {title: sid for sid, title in rows}
    return {d.story.key: by_title[d.story.title] for d in stories}


def events_of(engine: Engine) -> list[Event]:
    with session_scope(engine) as s:
        return events_since(s, NOW - timedelta(days=30))


def event_with(events: list[Event], story_id: int) -> Event:
    return next(e for e in events if story_id in [s.id for s in e.stories])


def test_stories_of_one_development_from_several_feeds_are_one_event(engine: Engine) -> None:
    ids = save(engine, WEEK)
    with session_scope(engine) as s:
        assert group_new_stories(s, NOW) == len(WEEK)
    events = events_of(engine)
    # Reports of one development from different outlets are one event ...
    for together in (["dev-1", "dev-2", "dev-3"], ["dev-6", "dev-7"], ["dev-29", "dev-30"], ["dev-44", "dev-45"]):
        assert {ids[k] for k in together} <= {s.id for s in event_with(events, ids[together[0]]).stories}
    # ... and other breaches, frauds and fines of the same week stay apart. (Korea's fine of HAESUNG
    # DS, dev-20, joins Ireland's fine of TikTok: two data-protection commissions' fines the same
    # week, alike in meaning and sharing "Protection Commission"; a known miss, see README.)
    for apart in (
        ["dev-31", "dev-34", "dev-44", "dev-47"],
        ["dev-26", "dev-29", "dev-43"],
        ["dev-22", "dev-48"],
    ):
        assert len({event_with(events, ids[k]).key for k in apart}) == len(apart)
    clorox = event_with(events, ids["dev-2"])
    joined = [s for s in clorox.stories if s.why]
    assert len(clorox.stories) == 3 and all("clorox" in s.why[0]["names"] for s in joined)  # type: ignore[operator]


def test_a_new_story_joins_the_stored_event_in_its_own_poll(engine: Engine) -> None:
    first, later = [d for d in WEEK if d.story.key != "dev-2"], [d for d in WEEK if d.story.key == "dev-2"]
    ids = save(engine, first)
    with session_scope(engine) as s:
        group_new_stories(s, NOW)
    ids |= save(engine, later)
    with session_scope(engine) as s:
        assert group_new_stories(s, NOW, [ids["dev-2"]]) == 1
        # Nothing else was grouped again.
        assert group_new_stories(s, NOW) == 0
    clorox = event_with(events_of(engine), ids["dev-2"])
    assert {ids["dev-1"], ids["dev-2"], ids["dev-3"]} == {s.id for s in clorox.stories}


def test_editors_merges_and_splits_survive_regrouping(engine: Engine) -> None:
    ids = save(engine, WEEK)
    with session_scope(engine) as s:
        group_new_stories(s, NOW)
        # The two SharePoint stories are one campaign: an editor makes them one event,
        # and takes one Clorox report out of the lawsuit's event.
        store.add_decision(s, "merge", "event", ids["dev-24"], ids["dev-25"], NOW)
        store.add_decision(s, "split", "event", ids["dev-2"], None, NOW + timedelta(seconds=1))
    for _ in range(2):
        events = events_of(engine)
        assert event_with(events, ids["dev-24"]) is event_with(events, ids["dev-25"])
        alone = event_with(events, ids["dev-2"])
        assert [s.id for s in alone.stories] == [ids["dev-2"]]
        assert alone.thread == event_with(events, ids["dev-1"]).thread
        with session_scope(engine) as s:
            assert regroup_window(s, NOW) == len(WEEK)


def kept_features(engine: Engine) -> dict[int, str | None]:
    with session_scope(engine) as s:
        return {sid: text for sid, text in s.execute(select(StoryEvent.story_id, StoryEvent.features))}


def test_a_poll_keeps_each_grouped_storys_features_and_later_polls_read_them(engine: Engine) -> None:
    first, later = [d for d in WEEK if d.story.key != "dev-2"], [d for d in WEEK if d.story.key == "dev-2"]
    ids = save(engine, first)
    with session_scope(engine) as s:
        group_new_stories(s, NOW)
    kept = kept_features(engine)
    by_id = {ids[d.story.key]: d.story for d in first}
    assert set(kept) == set(by_id)
    for sid, text in kept.items():
        assert load_features(text) == extract_features(by_id[sid].title, by_id[sid].summary)
    ids |= save(engine, later)
    with session_scope(engine) as s:
        window = store.known_since(s, NOW - timedelta(days=30))
        assert len(window) == len(first) and all(k.features is not None for k in window)
        group_new_stories(s, NOW, [ids["dev-2"]])
    clorox = event_with(events_of(engine), ids["dev-2"])
    assert {ids["dev-1"], ids["dev-2"], ids["dev-3"]} == {s.id for s in clorox.stories}


def test_stories_grouped_without_kept_features_get_them_at_the_next_poll(engine: Engine) -> None:
    first, later = [d for d in WEEK if d.story.key != "dev-2"], [d for d in WEEK if d.story.key == "dev-2"]
    ids = save(engine, first)
    with session_scope(engine) as s:
        group_new_stories(s, NOW)
        # As grouped before features were kept, or kept by an earlier version of the extraction.
        s.execute(update(StoryEvent).values(features=None))
        s.execute(update(StoryEvent).where(StoryEvent.story_id == ids["dev-1"]).values(features="0\tclorox"))
    ids |= save(engine, later)
    with session_scope(engine) as s:
        group_new_stories(s, NOW, [ids["dev-2"]])
    clorox = event_with(events_of(engine), ids["dev-2"])
    assert {ids["dev-1"], ids["dev-2"], ids["dev-3"]} == {s.id for s in clorox.stories}
    kept = kept_features(engine)
    assert all(load_features(text) is not None for text in kept.values())
    dev1 = next(d.story for d in first if d.story.key == "dev-1")
    assert load_features(kept[ids["dev-1"]]) == extract_features(dev1.title, dev1.summary)


def test_a_story_two_feeds_carry_is_grouped_by_the_feed_that_first_carried_it(engine: Engine) -> None:
    entry = ParsedEntry(
        title="Clorox sues Cognizant for $380 million over 2023 hack",
        link="https://wire.example/clorox",
        guid="clorox",
        author=None,
        published_at=NOW - timedelta(hours=1),
        summary_text="Clorox says Cognizant help desk staff handed hackers passwords.",
        summary_html="",
        content_html="",
        content_hash=content_hash("Clorox sues Cognizant for $380 million over 2023 hack", ""),
    )
    with session_scope(engine) as s:
        # The feed added later carries the story first: the lower feed id is not what counts.
        later = feed_store.add_feed(s, "https://later.example/feed", None, NOW).id
        first = feed_store.add_feed(s, "https://first.example/feed", None, NOW).id
        entry_store.save_entries(s, first, [entry], NOW)
        entry_store.save_entries(s, later, [entry], NOW)
        assert len(s.execute(select(Story.id)).all()) == 1
        (story,) = store.ungrouped(s)
        assert story.source == str(first)
        group_new_stories(s, NOW)
        (known,) = store.known_since(s, NOW - timedelta(days=1))
        assert known.story.source == str(first)

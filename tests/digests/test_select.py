"""Selection rules, as pure functions: topics, windows, limits, order, one story once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from digest.digests.editions import edition_for, edition_label
from digest.digests.select import Candidate, select_stories

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
ORDER = ("deepfakes", "child-protection", "ai-misuse")


def story(i: int, topics: set[str], hours_ago: int, seen_hours_ago: int | None = None) -> Candidate:
    seen = NOW - timedelta(hours=hours_ago if seen_hours_ago is None else seen_hours_ago)
    return Candidate(
        i,
        f"Story {i}",
        f"https://n.example/{i}",
        "",
        NOW - timedelta(hours=hours_ago),
        seen,
        frozenset(topics),
        ("Feed",),
    )


def test_a_story_with_two_of_the_readers_topics_appears_once_under_the_first() -> None:
    stories = [story(1, {"deepfakes", "ai-misuse"}, 1), story(2, {"ai-misuse"}, 2), story(3, {"child-protection"}, 3)]
    chosen = select_stories(stories, ORDER, {"ai-misuse", "deepfakes"}, NOW - timedelta(days=1), 10)
    assert [(topic, [s.id for s in group]) for topic, group in chosen.groups] == [
        ("deepfakes", [1]),
        ("ai-misuse", [2]),
    ]
    assert chosen.story_ids == (1, 2) and chosen.count == 2


def test_only_stories_first_seen_since_the_last_digest_at_most_n_per_topic() -> None:
    stories = [story(i, {"ai-misuse"}, i) for i in range(1, 30)]
    chosen = select_stories(stories, ORDER, {"ai-misuse"}, NOW - timedelta(hours=20), 5)
    assert chosen.story_ids == (1, 2, 3, 4, 5)
    late_find = story(99, {"ai-misuse"}, hours_ago=72, seen_hours_ago=1)  # published long ago, found just now
    assert select_stories([late_find], ORDER, {"ai-misuse"}, NOW - timedelta(hours=2), 5).story_ids == (99,)


def test_nothing_new_is_an_empty_selection() -> None:
    assert (
        select_stories([story(1, {"deepfakes"}, 1)], ORDER, {"child-protection"}, NOW - timedelta(days=1), 5).count == 0
    )


def test_editions_follow_the_configured_time_zone() -> None:
    late_evening_utc = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # a Sunday in UTC, Monday in Tokyo
    assert edition_for("daily", late_evening_utc, "UTC") == "daily:2026-11-29"
    assert edition_for("daily", late_evening_utc, "Asia/Tokyo") == "daily:2026-11-30"
    assert edition_for("weekly", late_evening_utc, "UTC") == "weekly:2026-W48"
    assert edition_for("weekly", late_evening_utc, "Asia/Tokyo") == "weekly:2026-W49"
    assert (
        edition_label("weekly:2026-W49") == "week 49, 2026" and edition_label("daily:2026-11-30") == "30 November 2026"
    )

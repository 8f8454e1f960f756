"""Grouping's rules that hold whatever the scores: what an event can and cannot be made of."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from digest.events.grouping import compared_pairs, group_stories
from digest.events.scoring import Story

NOW = datetime(2025, 7, 23, 9, tzinfo=UTC)
REPORT = Story(
    "1",
    "Clorox sues Cognizant for $380 million over 2023 hack",
    "Clorox says Cognizant help desk staff handed hackers passwords.",
    NOW,
    "wire",
)
SAME_REPORT_ELSEWHERE = replace(REPORT, key="2", published=NOW + timedelta(hours=2), source="daily")
# The same outlet's follow-up the same morning: another development as far as its readers go.
SAME_REPORT_SAME_FEED = replace(REPORT, key="3", published=NOW + timedelta(hours=3), source="wire")


def test_two_stories_of_one_feed_are_never_one_event_but_two_feeds_reports_are() -> None:
    first, elsewhere, same_feed = group_stories([REPORT, SAME_REPORT_ELSEWHERE, SAME_REPORT_SAME_FEED])
    assert first.event == elsewhere.event
    assert same_feed.event != first.event
    # Nothing tells stories of unknown feeds apart: they may be one event.
    unknown = [replace(s, source="") for s in (REPORT, SAME_REPORT_SAME_FEED)]
    a, b = group_stories(unknown)
    assert a.event == b.event


def test_the_pairs_fitted_on_are_the_pairs_grouping_compares() -> None:
    pairs = {(i, j) for i, j, _ in compared_pairs([REPORT, SAME_REPORT_ELSEWHERE, SAME_REPORT_SAME_FEED])}
    assert pairs == {(0, 1), (1, 2)}

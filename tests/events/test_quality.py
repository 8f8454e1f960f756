"""Grouping measured on labelled stories: the held-out part was never used to choose the settings."""

from __future__ import annotations

from pathlib import Path

from digest.events.grouping import group_stories
from digest.events.measure import Scores, baseline_groups, load_labelled, pairwise

HERE = Path(__file__).parent
# Measured on the held-out part when the settings were chosen on the development part (see README);
# the tests allow a small margin so a harmless change of tie-breaking does not fail them.
MEASURED = {"events": 0.966, "threads": 0.852}
MARGIN = 0.03
# The baseline's settings are the ones that scored best on the development part.
BASELINE_EVENT_THRESHOLD, BASELINE_THREAD_THRESHOLD = 0.2, 0.25


def _scores(part: str) -> tuple[Scores, Scores, Scores, Scores]:
    data = load_labelled(HERE / f"{part}.jsonl")
    stories = [d.story for d in data]
    events, threads = [d.event for d in data], [d.thread for d in data]
    result = group_stories(stories)
    return (
        pairwise(events, [a.event for a in result]),
        pairwise(threads, [a.thread for a in result]),
        pairwise(events, baseline_groups(stories, BASELINE_EVENT_THRESHOLD, 4)),
        pairwise(threads, baseline_groups(stories, BASELINE_THREAD_THRESHOLD, 400)),
    )


def test_the_labelled_set_has_a_held_out_third_with_hard_negatives() -> None:
    dev, held = load_labelled(HERE / "dev.jsonl"), load_labelled(HERE / "heldout.jsonl")
    assert len(held) * 10 >= 3 * (len(dev) + len(held))  # at least 30 % held out
    assert not {d.thread for d in dev} & {h.thread for h in held}
    # Several different events of the same week, so grouping by date and topic alone cannot pass.
    same_week_other_event = [
        (a, b)
        for a in held
        for b in held
        if a.event < b.event and abs((a.story.published - b.story.published).days) <= 3
    ]
    assert len(same_week_other_event) >= 40


def test_grouping_beats_the_tfidf_baseline_on_held_out_stories() -> None:
    events, threads, base_events, base_threads = _scores("heldout")
    assert events.f1 > base_events.f1
    assert threads.f1 > base_threads.f1


def test_held_out_scores_hold() -> None:
    events, threads, _, _ = _scores("heldout")
    assert events.f1 >= MEASURED["events"] - MARGIN, events
    assert threads.f1 >= MEASURED["threads"] - MARGIN, threads
    # No two different events are joined; the misses are reports of one event kept apart.
    assert events.precision >= 0.95, events


# A second held-out set (tests/events/heldout2.jsonl: 160 stories, 66 events, 43 threads, ten outlets),
# written after grouping was built by someone who did not read how it works: each outlet words its
# report its own way. Measured once, as it came; nothing was tuned on it (see README).
MEASURED_SECOND = {"events": 0.644, "threads": 0.560}


def test_second_held_out_set_beats_the_baseline_and_holds_its_scores() -> None:
    events, threads, base_events, base_threads = _scores("heldout2")
    assert events.f1 > base_events.f1 and threads.f1 > base_threads.f1
    assert events.f1 >= MEASURED_SECOND["events"] - MARGIN, events
    assert threads.f1 >= MEASURED_SECOND["threads"] - MARGIN, threads
    # What it gets wrong is mostly reports kept apart, not different events joined.
    assert events.precision >= 0.95, events

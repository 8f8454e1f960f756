"""The tagger on real news: labelled stories of the captured feeds and stories written down from public news.

Each set must score at least what the tagger scored when the labels were made, less a small margin,
so a change to the rules that loses ground on real news fails here. Raise the floors as the tagger
improves. The held-out part is asserted by its figures only; its misses are not printed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from digest.tagging.learned import load_model
from digest.tagging.rules import Ruleset
from digest.tagging.tagger import tag_story
from tests.conftest import shared_data
from tests.tagging.examples import WEIGHTS
from tests.tagging.score import (
    NEAR_MISSES,
    REAL,
    TOPICS,
    Score,
    Story,
    feed_entries,
    load_stories,
    read_jsonl,
    score,
)

# (micro-F1, exact match) floors: the figures last measured (dev 0.981, 0.992; held-out 0.917, 0.960),
# less a small margin.
FLOORS = {
    "dev": (0.97, 0.985),
    "heldout": (0.905, 0.95),
}
# The second held-out part (written after the rules and the learned layer were made, never read by
# whoever changes them), tagged by the rules with the shipped learned layer: measured 0.869, 0.856.
HELDOUT2_FLOOR = (0.855, 0.84)


def tagged(ruleset: Ruleset, stories: list[Story]) -> Score:
    return score(stories, lambda title, summary: tag_story(ruleset, title, summary).topics)


@pytest.fixture(scope="module")
def entries() -> dict[str, tuple[str, str]]:
    return feed_entries(shared_data("real-feeds"))


def real(part: str, entries: dict[str, tuple[str, str]], source: str = "*") -> list[Story]:
    """The stories of one part (dev or heldout), from the feeds, the written ones, or both ("*")."""
    paths = sorted(REAL.glob(f"{part}-{source}.jsonl"))
    return [story for path in paths for story in load_stories(path, entries)]


def test_every_story_of_the_captured_feeds_is_labelled_once(entries: dict[str, tuple[str, str]]) -> None:
    labelled = Counter(str(item["id"]) for path in REAL.glob("*-feeds.jsonl") for item in read_jsonl(path))
    assert [story_id for story_id, times in labelled.items() if times > 1] == []
    assert set(entries) - set(labelled) == set(), "feed entries nobody labelled"
    # load_stories checks each id still names the headline that was labelled.
    assert len(real("dev", entries, "feeds")) + len(real("heldout", entries, "feeds")) == len(entries)


def test_labels_use_the_launch_topics_and_known_near_miss_kinds(entries: dict[str, tuple[str, str]]) -> None:
    stories = real("dev", entries) + real("heldout", entries)
    assert {topic for story in stories for topic in story.topics} <= set(TOPICS)
    assert {story.kind for story in stories if story.kind} <= set(NEAR_MISSES)
    # Every deepfakes story is also ai-misuse, by definition.
    assert [s.id for s in stories if "deepfakes" in s.topics and "ai-misuse" not in s.topics] == []


def test_real_development_part_scores_at_least_its_floor(ruleset: Ruleset, entries: dict[str, tuple[str, str]]) -> None:
    result = tagged(ruleset, real("dev", entries))
    micro, exact = FLOORS["dev"]
    assert result.micro_f1 >= micro and result.exact_match >= exact, "\n".join(result.misses)


def test_real_held_out_part_scores_at_least_its_floor(ruleset: Ruleset, entries: dict[str, tuple[str, str]]) -> None:
    result = tagged(ruleset, real("heldout", entries))
    micro, exact = FLOORS["heldout"]
    # Figures only: the held-out stories' misses must not guide changes to the rules.
    assert result.micro_f1 >= micro, f"held-out micro-F1 {result.micro_f1:.3f} < {micro}"
    assert result.exact_match >= exact, f"held-out exact match {result.exact_match:.3f} < {exact}"


def test_the_held_out_part_is_a_third_stratified_by_topic_and_near_miss(entries: dict[str, tuple[str, str]]) -> None:
    dev, held = real("dev", entries), real("heldout", entries)
    assert {s.id for s in dev}.isdisjoint({s.id for s in held})
    assert len(held) >= max(150, (len(dev) + len(held)) / 3)
    for topic in TOPICS:
        in_dev, in_held = (sum(topic in s.topics for s in part) for part in (dev, held))
        assert in_held >= (in_dev + in_held) / 4, topic
    assert {s.kind for s in dev if s.kind} == {s.kind for s in held if s.kind}
    written = real("heldout", entries, "written")
    assert sum(bool(s.kind) for s in written) >= 0.35 * len(written)


def test_written_stories_name_their_source() -> None:
    items = [item for path in sorted(REAL.glob("*-written.jsonl")) for item in read_jsonl(path)]
    assert len(items) >= 250
    assert [item["id"] for item in items if not str(item.get("source", "")).strip()] == []
    assert len({str(item["title"]).lower() for item in items}) == len(items), "a story written down twice"


def test_the_score_counts_a_missed_topic_and_a_false_alarm() -> None:
    stories = [
        Story("a", "Deepfake robocall", "", frozenset({"ai-misuse", "deepfakes"})),
        Story("b", "School payroll fraud", "", frozenset()),
        Story("c", "Nothing here", "", frozenset()),
    ]
    given = {"Deepfake robocall": ["deepfakes", "editors-extra"], "School payroll fraud": ["child-protection"]}
    result = score(stories, lambda title, _: given.get(title, []))
    assert result.exact_match == pytest.approx(1 / 3)
    assert (result.recall("ai-misuse"), result.precision("child-protection"), result.f1("deepfakes")) == (0.0, 0.0, 1.0)
    assert result.micro_f1 == pytest.approx(2 * 1 / (2 * 1 + 1 + 1))


def test_second_held_out_part_with_the_learned_layer_scores_at_least_its_floor(ruleset: Ruleset) -> None:
    stories = real("heldout2", {}, "written")
    assert len(stories) >= 150
    shipped = replace(ruleset, learned=load_model(WEIGHTS))
    result = tagged(shipped, stories)
    micro, exact = HELDOUT2_FLOOR
    # Figures only, as for the first held-out part.
    assert result.micro_f1 >= micro, f"second held-out micro-F1 {result.micro_f1:.3f} < {micro}"
    assert result.exact_match >= exact, f"second held-out exact match {result.exact_match:.3f} < {exact}"
    # The layer must not do worse than the rules alone on news neither has seen.
    assert result.micro_f1 >= tagged(ruleset, stories).micro_f1

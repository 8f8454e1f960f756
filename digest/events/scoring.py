"""How alike two stories are, as grouping compares them: the knobs, the story as compared (words,
names, numbers, each weighted by the window's IDF), and the event and thread scores. Pure; no I/O.

A story's words are a unit-length TF-IDF vector with each word counted once, so the cosine of two
stories is the sum of the squared IDF of the words they share, divided by both vectors' lengths:
one set intersection and a few look-ups, no vector is ever built. Names are compared the same way,
with a place's or a regulator's name weighing less than a subject's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from digest.events.features import StoryFeatures, shared_phrases


@dataclass(frozen=True, slots=True)
class Params:
    """The knobs of grouping, chosen by measurement on the development set (bench/events.py)."""

    event_days: float = 4.0
    event_threshold: float = 0.2
    name_bonus: float = 0.4
    number_bonus: float = 0.15
    number_conflict: float = 0.15
    unanchored_penalty: float = 0.2
    # A name carried by more stories than this is too common to anchor anything.
    anchor_share: float = 0.1
    anchor_min: int = 5
    anchor_max: int = 200
    thread_days: float = 400.0
    thread_threshold: float = 0.4
    # How much of the thread score comes from shared names (the rest from all words).
    thread_names: float = 0.8
    # What is left of a thread score when the stories share no subject's name, only places.
    thread_unanchored: float = 0.5
    # The weight of a place's or a regulator's name among a story's names (events.places).
    background: float = 0.6
    # Words in more than this share of the window are too common to find candidates with.
    common_share: float = 0.005
    candidates: int = 6


DEFAULT_PARAMS = Params()


@dataclass(frozen=True, slots=True)
class Story:
    key: str
    title: str
    summary: str
    published: datetime


@dataclass(frozen=True, slots=True)
class Weights:
    """The window's weights: the IDF of each word, its square, and the square of each capitalised
    word's weight as a name (a place's or a regulator's scaled down)."""

    idf: Mapping[str, float]
    words: Mapping[str, float]
    names: Mapping[str, float]


@dataclass(slots=True)
class Indexed:
    """A story as grouping holds it: its features, its specific names (what anchors a thread) and,
    without places and regulators (events.places), its subjects (what anchors an event)."""

    story: Story
    features: StoryFeatures
    anchors: frozenset[str]
    # Seconds since the epoch: comparing floats is much cheaper than subtracting datetimes.
    moment: float
    event: str = ""
    # Filled by ``prepare`` when the story is first compared: most stories of the window never are.
    subjects: frozenset[str] = frozenset()
    # 1 / the length of its word vector, 1 / the squared length of its name vector (0: no names).
    inverse: float = 0.0
    inverse_names: float = -1.0


def prepare(item: Indexed, weights: Weights, background: frozenset[str]) -> Indexed:
    """Fill in what comparing ``item`` needs (once)."""
    if item.inverse_names < 0:
        item.subjects = item.anchors - background
        item.inverse = 1 / math.sqrt(sum(map(weights.words.__getitem__, item.features.words)) or 1.0)
        names = sum(map(weights.names.__getitem__, item.anchors))
        item.inverse_names = 1 / names if names else 0.0
    return item


def cosine(item: Indexed, other: Indexed, weights: Weights) -> float:
    shared = item.features.words & other.features.words
    return sum(map(weights.words.__getitem__, shared)) * item.inverse * other.inverse if shared else 0.0


def overlap(item: Indexed, other: Indexed, weights: Weights) -> float:
    """The weight of the names two stories share, against the smaller story's names (0..1): each
    story's name vector has unit length, so that is the shared names' mean weight in the two."""
    shared = item.anchors & other.anchors
    if not shared:
        return 0.0
    return min(1.0, sum(map(weights.names.__getitem__, shared)) * (item.inverse_names + other.inverse_names) / 2)


def event_score(item: Indexed, other: Indexed, weights: Weights, params: Params) -> float:
    mine, theirs = item.features.numbers, other.features.numbers
    shared_numbers = len(mine & theirs) if mine and theirs else 0
    # Two reports of one event that both give figures nearly always share one (the fine, the count).
    conflict = params.number_conflict if mine and theirs and not shared_numbers else 0
    # Without a shared specific name or figure, only near-identical wording makes one event.
    anchored = shared_numbers or not item.subjects.isdisjoint(other.subjects)
    return (
        -conflict
        - (0 if anchored else params.unanchored_penalty)
        + cosine(item, other, weights)
        + params.name_bonus * overlap(item, other, weights)
        + params.number_bonus * min(shared_numbers, 2)
    )


def thread_score(item: Indexed, other: Indexed, weights: Weights, params: Params) -> float:
    score = params.thread_names * overlap(item, other, weights) + (1 - params.thread_names) * cosine(
        item, other, weights
    )
    # Two cases of one city or one regulator are not one case: a thread needs a shared subject.
    return score if not item.subjects.isdisjoint(other.subjects) else score * params.thread_unanchored


def reason(kind: str, other: Indexed, item: Indexed, score: float) -> dict[str, object]:
    a, b = item.features, other.features
    return {
        "kind": kind,
        "with": other.story.key,
        "score": round(score, 3),
        "names": sorted(item.anchors & other.anchors),
        "numbers": sorted(a.numbers & b.numbers),
        "phrases": shared_phrases(a, b)[:5],
    }

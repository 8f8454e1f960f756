"""How alike two stories are, as grouping compares them: the knobs, the story as compared (words,
names, numbers, each weighted by the window's IDF), and the event and thread scores. Pure; no I/O.

A story's words are a unit-length TF-IDF vector with each word counted once, so the cosine of two
stories is the sum of the squared IDF of the words they share, divided by both vectors' lengths:
one set intersection and a few look-ups, no vector is ever built. Names are compared the same way,
with a place's or a regulator's name weighing less than a subject's. What a story is about is also
compared as a whole (events.meaning), so reports that say the same in other words come out alike.
The event score weighs all of these by weights fitted on labelled pairs of stories.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from operator import mul

import numpy as np

from digest.events.features import StoryFeatures, shared_phrases
from digest.events.meaning import DIMENSIONS

_NO_VECTOR = np.zeros(DIMENSIONS, dtype=np.float32)


@dataclass(frozen=True, slots=True)
class Params:
    """The knobs of grouping: the event score's weights fitted on labelled stories by
    tools/fit_grouping.py, the rest chosen by measurement on the development set (bench/events.py)."""

    event_days: float = 4.0
    # The weights of EVENT_TERMS in the event score, and its bias: the score is the log-odds that
    # two stories report one event, so a story joins an event whose stories average at least
    # ``event_threshold``.
    event_weights: tuple[float, ...] = (5.076, 1.799, 2.479, -0.342, 0.657, 10.024, -0.883, -0.43)
    event_bias: float = -8.069
    event_threshold: float = -1.0
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
    # The feed it came from ("" when unknown): an event is reports from different feeds, so two
    # stories of one feed (a news piece and the same outlet's explainer) are never one event.
    source: str = ""


@dataclass(frozen=True, slots=True)
class Weights:
    """The window's weights: the IDF of each word, its square, and the square of each capitalised
    word's weight as a name (a place's or a regulator's scaled down)."""

    idf: Mapping[str, float]
    words: Mapping[str, float]
    names: Mapping[str, float]


# What the event score weighs, in the order of Params.event_weights.
EVENT_TERMS = (
    "words",
    "names",
    "numbers shared",
    "numbers differ",
    "anchored",
    "meaning",
    "days apart",
    "places differ",
)


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
    # The places and regulators (events.places) it names.
    places: frozenset[str] = frozenset()
    # 1 / the length of its word vector, 1 / the squared length of its name vector (0: no names).
    inverse: float = 0.0
    inverse_names: float = -1.0
    # Its meaning (events.meaning), a row of the window's matrix of them.
    vector: np.ndarray = field(default_factory=lambda: _NO_VECTOR)


def prepare(item: Indexed, weights: Weights, background: frozenset[str]) -> Indexed:
    """Fill in what comparing ``item`` needs (once)."""
    if item.inverse_names < 0:
        item.subjects = item.anchors - background
        item.places = item.features.names & background
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


def similarity(item: Indexed, other: Indexed) -> float:
    """How alike two stories' meanings are (the cosine of their meaning vectors, -1..1)."""
    return float(item.vector @ other.vector)


def event_terms(item: Indexed, other: Indexed, weights: Weights) -> tuple[float, ...]:
    """What the event score weighs (EVENT_TERMS) for two prepared stories."""
    mine, theirs = item.features.numbers, other.features.numbers
    shared_numbers = len(mine & theirs) if mine and theirs else 0
    # Two reports of one event that both give figures nearly always share one (the fine, the count).
    conflict = 1.0 if mine and theirs and not shared_numbers else 0.0
    # A shared specific name or figure: without one, only near-identical wording makes one event.
    anchored = 1.0 if shared_numbers or not item.subjects.isdisjoint(other.subjects) else 0.0
    # Two stories set in different places ("Hong Kong", "Singapore") are rarely one event.
    elsewhere = 1.0 if item.places and other.places and item.places.isdisjoint(other.places) else 0.0
    return (
        cosine(item, other, weights),
        overlap(item, other, weights),
        float(min(shared_numbers, 2)),
        conflict,
        anchored,
        similarity(item, other),
        abs(item.moment - other.moment) / 86400,
        elsewhere,
    )


def event_score(item: Indexed, other: Indexed, weights: Weights, params: Params) -> float:
    """The log-odds that two stories report one event."""
    return params.event_bias + math.fsum(map(mul, params.event_weights, event_terms(item, other, weights)))


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
        "meaning": round(similarity(item, other), 3),
        "phrases": shared_phrases(a, b)[:5],
    }

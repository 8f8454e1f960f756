"""How alike two stories are, as grouping compares them: the knobs, the story as compared (words,
names, numbers, each weighted by the window's IDF), and the event and thread scores. Pure; no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from digest.events.features import StoryFeatures, cosine, weighted


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


@dataclass(slots=True)
class Indexed:
    story: Story
    features: StoryFeatures
    # The story's specific names (see group_stories): what anchors a thread ...
    anchors: frozenset[str]
    idf: Mapping[str, float]
    unseen: float
    event: str = ""
    # ... and, without places and regulators (events.places), an event.
    subjects: frozenset[str] = frozenset()
    # How much a place or a regulator counts among the names, against a subject's name.
    background: float = 0.6
    # Weighted vectors are made when first compared: most stories of the window never are.
    _vector: dict[str, float] | None = None
    _names: dict[str, float] | None = None

    @property
    def vector(self) -> dict[str, float]:
        if self._vector is None:
            self._vector = weighted(self.features.words, self.idf, self.unseen)
        return self._vector

    @property
    def names(self) -> dict[str, float]:
        if self._names is None:
            idf = {
                n: self.idf.get(n, self.unseen) * (1 if n in self.subjects else self.background) for n in self.anchors
            }
            self._names = weighted(self.anchors, idf, self.unseen)
        return self._names


def event_score(item: Indexed, other: Indexed, params: Params) -> float:
    shared_numbers = len(item.features.numbers & other.features.numbers)
    # Two reports of one event that both give figures nearly always share one (the fine, the count).
    conflict = params.number_conflict if item.features.numbers and other.features.numbers and not shared_numbers else 0
    # Without a shared specific name or figure, only near-identical wording makes one event.
    anchored = shared_numbers or not item.subjects.isdisjoint(other.subjects)
    return (
        -conflict
        - (0 if anchored else params.unanchored_penalty)
        + cosine(item.vector, other.vector)
        + params.name_bonus * overlap(item.names, other.names)
        + params.number_bonus * min(shared_numbers, 2)
    )


def thread_score(item: Indexed, other: Indexed, params: Params) -> float:
    score = params.thread_names * overlap(item.names, other.names) + (1 - params.thread_names) * cosine(
        item.vector, other.vector
    )
    # Two cases of one city or one regulator are not one case: a thread needs a shared subject.
    return score if not item.subjects.isdisjoint(other.subjects) else score * params.thread_unanchored


def overlap(a: dict[str, float], b: dict[str, float]) -> float:
    """The weight of the names two stories share, against the smaller story's names (0..1)."""
    if not a or not b:
        return 0.0
    shared = sum(a[w] ** 2 + b[w] ** 2 for w in a.keys() & b.keys()) / 2
    return min(1.0, shared / min(sum(v * v for v in a.values()), sum(v * v for v in b.values())))


def reason(kind: str, other: Indexed, item: Indexed, score: float) -> dict[str, object]:
    a, b = item.features, other.features
    return {
        "kind": kind,
        "with": other.story.key,
        "score": round(score, 3),
        "names": sorted(item.anchors & other.anchors),
        "numbers": sorted(a.numbers & b.numbers),
        "phrases": sorted(a.phrases & b.phrases)[:5],
    }

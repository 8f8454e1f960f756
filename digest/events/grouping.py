"""Grouping: which stories report the same event, and which events continue one thread. Pure; no I/O.

Stories are taken in order of publication. Each is compared with the earlier stories of the recent
window that share at least one rare word with it (an inverted index finds them, so the cost grows with
the window, not with every story ever seen). It joins the event of the most similar one when

    similarity = cosine of TF-IDF word vectors + bonus per shared name / number

reaches ``event_threshold`` within ``event_days``. A story that starts a new event is compared with
the stories of older events over ``thread_days``: when they share enough rare names (the company
fined, the man charged, the bill's state) its event joins that event's thread. Every decision keeps
the reason: the story it matched, the score and the shared names, numbers and phrases.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import chain

from digest.events.features import StoryFeatures, cosine, extract_features, idf_weights, weighted
from digest.events.places import BACKGROUND


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
class Known:
    """A story grouped earlier, with its event and thread keys; ``features`` saves extracting them again."""

    story: Story
    event: str
    thread: str
    features: StoryFeatures | None = None


@dataclass(slots=True)
class Assignment:
    """Where one story went, and why."""

    key: str
    event: str
    thread: str
    why: list[dict[str, object]] = field(default_factory=list)


@dataclass(slots=True)
class _Indexed:
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


class _Seen(list[_Indexed]):
    """The stories grouped so far, in the order they were added, with the latest publication time
    up to each position (never decreasing, so the start of a time window is found by bisection)."""

    def __init__(self) -> None:
        super().__init__()
        self.latest: list[float] = []

    def first_within(self, moment: datetime, days: float) -> int:
        return bisect_left(self.latest, (moment - timedelta(days=days)).timestamp())


class _Groups:
    """Union-find over event and thread keys, so merging two groups is cheap and order-free."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        self.parent.setdefault(key, key)
        root = key
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[key] != root:
            self.parent[key], key = root, self.parent[key]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The older key survives, so a group's name is its first story's.
            keep, drop = sorted((ra, rb))
            self.parent[drop] = keep


def group_stories(
    stories: Sequence[Story],
    params: Params = Params(),
    *,
    known: Sequence[Known] = (),
) -> list[Assignment]:
    """Assign each story to an event and a thread; ``known`` are earlier stories already grouped
    that new stories may join. Returns one assignment per story, in order.

    Event keys of new events are "e:" + the first story's key, thread keys "t:" + the same.
    """
    everything = [k.story for k in known] + list(stories)
    features = {id(k.story): k.features or extract_features(k.story.title, k.story.summary) for k in known}
    features.update((id(s), extract_features(s.title, s.summary)) for s in stories)
    frequency = Counter(chain.from_iterable(f.words for f in features.values()))
    capitalised = Counter(chain.from_iterable(f.names for f in features.values()))
    # A name is a word the window writes with a capital letter nearly every time it appears.
    plain = {w for w, n in capitalised.items() if n < 0.8 * frequency[w]}
    # ... and is specific when few stories carry it ("Clorox", not "AI" or "China"): only such names
    # anchor an event or a thread.
    limit = max(params.anchor_min, min(params.anchor_share * len(features), params.anchor_max))
    plain |= {w for w, n in capitalised.items() if n > limit}
    total = max(len(everything), 1)
    idf = idf_weights(frequency, total)
    unseen = idf_weights({"": 0}, total)[""]
    common = max(50, int(params.common_share * total))
    too_common = frozenset(w for w, n in frequency.items() if n > common)

    events, threads = _Groups(), _Groups()
    index: dict[str, list[int]] = defaultdict(list)
    names_index: dict[str, list[int]] = defaultdict(list)
    done = _Seen()
    thread_of_event: dict[str, str] = {}
    members: dict[str, list[_Indexed]] = defaultdict(list)

    def add(item: _Indexed) -> None:
        position = len(done)
        done.append(item)
        moment = item.story.published.timestamp()
        done.latest.append(max(moment, done.latest[-1]) if done.latest else moment)
        for word in item.features.words - too_common:
            index[word].append(position)
        for name in item.anchors - too_common:
            names_index[name].append(position)

    def indexed(story: Story) -> _Indexed:
        f = features[id(story)]
        anchors = f.names if f.names.isdisjoint(plain) else f.names - plain
        return _Indexed(story, f, anchors, idf, unseen, subjects=anchors - BACKGROUND, background=params.background)

    for earlier in sorted(known, key=lambda k: k.story.published):
        story, event, thread = earlier.story, earlier.event, earlier.thread
        item = indexed(story)
        item.event = event
        thread_of_event[event] = thread
        add(item)
        members[event].append(item)

    results: dict[int, Assignment] = {}
    for position, story in sorted(enumerate(stories), key=lambda p: (p[1].published, p[0])):
        item = indexed(story)
        why: list[dict[str, object]] = []
        match = _closest_event(item, done, index, params, members, events)
        if match is not None and match[0] >= params.event_threshold:
            score, other = match
            item.event = events.find(other.event)
            why.append(_reason("same event", other, item, score))
        else:
            item.event = "e:" + story.key
            thread_of_event[item.event] = "t:" + story.key
            link = _best(item, done, names_index, params, params.thread_days, _thread_score)
            if link is not None and link[0] >= params.thread_threshold:
                score, other = link
                threads.union(thread_of_event[item.event], thread_of_event[events.find(other.event)])
                why.append(_reason("same thread", other, item, score))
        add(item)
        members[item.event].append(item)
        results[position] = Assignment(story.key, item.event, "", why)
    for assignment in results.values():
        assignment.event = events.find(assignment.event)
        assignment.thread = threads.find(thread_of_event[assignment.event])
    return [results[i] for i in range(len(stories))]


def _closest_event(
    item: _Indexed,
    done: _Seen,
    index: dict[str, list[int]],
    params: Params,
    members: dict[str, list[_Indexed]],
    events: _Groups,
) -> tuple[float, _Indexed] | None:
    """The event whose stories are on average most similar to ``item`` (average link), with its
    story most like ``item``; one similar story alone does not pull a different event in."""
    window = timedelta(days=params.event_days)
    best: tuple[float, _Indexed] | None = None
    seen: set[str] = set()
    for _, other in _candidates(item, done, index, params, params.event_days, _event_score):
        event = events.find(other.event)
        if event in seen:
            continue
        seen.add(event)
        near = [m for m in members[event][-8:] if abs(item.story.published - m.story.published) <= window]
        scores = [_event_score(item, m, params) for m in near] or [0.0]
        value = sum(scores) / len(scores)
        if best is None or value > best[0]:
            best = (value, near[scores.index(max(scores))] if near else other)
    return best


def _best(
    item: _Indexed,
    done: _Seen,
    index: dict[str, list[int]],
    params: Params,
    days: float,
    score: Callable[[_Indexed, _Indexed, Params], float],
) -> tuple[float, _Indexed] | None:
    """The most similar earlier story within ``days``, among those sharing a rare word with ``item``."""
    found = _candidates(item, done, index, params, days, score)
    return found[0] if found else None


def _candidates(
    item: _Indexed,
    done: _Seen,
    index: dict[str, list[int]],
    params: Params,
    days: float,
    score: Callable[[_Indexed, _Indexed, Params], float],
) -> list[tuple[float, _Indexed]]:
    """Earlier stories within ``days`` that share a rare word with ``item``, most similar first."""
    window = timedelta(days=days)
    partial: dict[int, float] = defaultdict(float)
    # Postings are in the order stories were added, so the part before the window is skipped whole.
    start = done.first_within(item.story.published, days)
    for word, weight in (item.names if score is _thread_score else item.vector).items():
        postings = index.get(word)
        if not postings:
            continue
        for position in postings[bisect_left(postings, start) if start else 0 :]:
            partial[position] += weight
    found = []
    best = (
        partial
        if len(partial) <= params.candidates
        else heapq.nlargest(params.candidates, partial, partial.__getitem__)
    )
    for position in best:
        other = done[position]
        if abs(item.story.published - other.story.published) <= window:
            found.append((score(item, other, params), other))
    found.sort(key=lambda f: -f[0])
    return found


def _event_score(item: _Indexed, other: _Indexed, params: Params) -> float:
    shared_numbers = len(item.features.numbers & other.features.numbers)
    # Two reports of one event that both give figures nearly always share one (the fine, the count).
    conflict = params.number_conflict if item.features.numbers and other.features.numbers and not shared_numbers else 0
    # Without a shared specific name or figure, only near-identical wording makes one event.
    anchored = shared_numbers or not item.subjects.isdisjoint(other.subjects)
    return (
        -conflict
        - (0 if anchored else params.unanchored_penalty)
        + cosine(item.vector, other.vector)
        + params.name_bonus * _overlap(item.names, other.names)
        + params.number_bonus * min(shared_numbers, 2)
    )


def _thread_score(item: _Indexed, other: _Indexed, params: Params) -> float:
    score = params.thread_names * _overlap(item.names, other.names) + (1 - params.thread_names) * cosine(
        item.vector, other.vector
    )
    # Two cases of one city or one regulator are not one case: a thread needs a shared subject.
    return score if not item.subjects.isdisjoint(other.subjects) else score * params.thread_unanchored


def _overlap(a: dict[str, float], b: dict[str, float]) -> float:
    """The weight of the names two stories share, against the smaller story's names (0..1)."""
    if not a or not b:
        return 0.0
    shared = sum(a[w] ** 2 + b[w] ** 2 for w in a.keys() & b.keys()) / 2
    return min(1.0, shared / min(sum(v * v for v in a.values()), sum(v * v for v in b.values())))


def _reason(kind: str, other: _Indexed, item: _Indexed, score: float) -> dict[str, object]:
    a, b = item.features, other.features
    return {
        "kind": kind,
        "with": other.story.key,
        "score": round(score, 3),
        "names": sorted(item.anchors & other.anchors),
        "numbers": sorted(a.numbers & b.numbers),
        "phrases": sorted(a.phrases & b.phrases)[:5],
    }

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

import gc
import heapq
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import chain

from digest.events.features import StoryFeatures, extract_features, idf_weights
from digest.events.places import BACKGROUND
from digest.events.scoring import DEFAULT_PARAMS, Indexed, Params, Story, event_score, reason, thread_score


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


class _Seen(list[Indexed]):
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


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Grouping a window makes hundreds of thousands of small objects and no reference cycles; the
    cycle collector would only walk them over and over (a quarter of the time, measured)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def group_stories(
    stories: Sequence[Story],
    params: Params = DEFAULT_PARAMS,
    *,
    known: Sequence[Known] = (),
) -> list[Assignment]:
    """Assign each story to an event and a thread; ``known`` are earlier stories already grouped
    that new stories may join. Returns one assignment per story, in order.

    Event keys of new events are "e:" + the first story's key, thread keys "t:" + the same.
    """
    with _without_cycle_collection():
        return _group(stories, params, known)


def _group(stories: Sequence[Story], params: Params, known: Sequence[Known]) -> list[Assignment]:
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
    members: dict[str, list[Indexed]] = defaultdict(list)

    # A story more than event_days older than every new one can only be found as a thread's earlier
    # event, by its names: most of a 30-day window needs no place in the (much larger) word index.
    words_from = min((s.published for s in stories), default=None)
    words_from = words_from - timedelta(days=params.event_days) if words_from else None

    def add(item: Indexed) -> None:
        position = len(done)
        done.append(item)
        moment = item.story.published.timestamp()
        done.latest.append(max(moment, done.latest[-1]) if done.latest else moment)
        if words_from is None or item.story.published >= words_from:
            for word in item.features.words - too_common:
                index[word].append(position)
        for name in item.anchors - too_common:
            names_index[name].append(position)

    def indexed(story: Story) -> Indexed:
        f = features[id(story)]
        anchors = f.names if f.names.isdisjoint(plain) else f.names - plain
        return Indexed(story, f, anchors, idf, unseen, subjects=anchors - BACKGROUND, background=params.background)

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
            why.append(reason("same event", other, item, score))
        else:
            item.event = "e:" + story.key
            thread_of_event[item.event] = "t:" + story.key
            link = _best(item, done, names_index, params, params.thread_days, thread_score)
            if link is not None and link[0] >= params.thread_threshold:
                score, other = link
                threads.union(thread_of_event[item.event], thread_of_event[events.find(other.event)])
                why.append(reason("same thread", other, item, score))
        add(item)
        members[item.event].append(item)
        results[position] = Assignment(story.key, item.event, "", why)
    for assignment in results.values():
        assignment.event = events.find(assignment.event)
        assignment.thread = threads.find(thread_of_event[assignment.event])
    return [results[i] for i in range(len(stories))]


def _closest_event(
    item: Indexed,
    done: _Seen,
    index: dict[str, list[int]],
    params: Params,
    members: dict[str, list[Indexed]],
    events: _Groups,
) -> tuple[float, Indexed] | None:
    """The event whose stories are on average most similar to ``item`` (average link), with its
    story most like ``item``; one similar story alone does not pull a different event in."""
    window = timedelta(days=params.event_days)
    best: tuple[float, Indexed] | None = None
    seen: set[str] = set()
    for _, other in _candidates(item, done, index, params, params.event_days, event_score):
        event = events.find(other.event)
        if event in seen:
            continue
        seen.add(event)
        near = [m for m in members[event][-8:] if abs(item.story.published - m.story.published) <= window]
        scores = [event_score(item, m, params) for m in near] or [0.0]
        value = sum(scores) / len(scores)
        if best is None or value > best[0]:
            best = (value, near[scores.index(max(scores))] if near else other)
    return best


def _best(
    item: Indexed,
    done: _Seen,
    index: dict[str, list[int]],
    params: Params,
    days: float,
    score: Callable[[Indexed, Indexed, Params], float],
) -> tuple[float, Indexed] | None:
    """The most similar earlier story within ``days``, among those sharing a rare word with ``item``."""
    found = _candidates(item, done, index, params, days, score)
    return found[0] if found else None


def _candidates(
    item: Indexed,
    done: _Seen,
    index: dict[str, list[int]],
    params: Params,
    days: float,
    score: Callable[[Indexed, Indexed, Params], float],
) -> list[tuple[float, Indexed]]:
    """Earlier stories within ``days`` that share a rare word with ``item``, most similar first."""
    window = timedelta(days=days)
    partial: dict[int, float] = defaultdict(float)
    # Postings are in the order stories were added, so the part before the window is skipped whole.
    start = done.first_within(item.story.published, days)
    for word, weight in (item.names if score is thread_score else item.vector).items():
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

"""Grouping: which stories report the same event, and which events continue one thread. Pure; no I/O.

Stories are taken in order of publication. Each is compared with the earlier stories of the recent
window that share at least one rare word with it (an inverted index finds them, so the cost grows with
the window, not with every story ever seen). It joins the event whose stories within ``event_days``
are on average most like it when that average event score (scoring.event_score: the log-odds of one
event, from shared words, names and figures and how alike the two stories' meanings are) reaches
``event_threshold``; never an event its own feed has reported already (an event is reports from
different feeds). A story that starts a new event is compared with the stories of older events over
``thread_days``: when they share enough rare names (the company fined, the man charged, the bill's
state) its event joins that event's thread. Every decision keeps the reason: the story it matched,
the score, the shared names, numbers and phrases, and how alike their meanings are.
"""

from __future__ import annotations

import gc
import heapq
import math
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, combinations
from operator import attrgetter

from digest.events.features import StoryFeatures, extract_many, idf_weights
from digest.events.meaning import matrix
from digest.events.places import BACKGROUND
from digest.events.scoring import (
    DEFAULT_PARAMS,
    Indexed,
    Params,
    Story,
    Weights,
    event_score,
    event_terms,
    prepare,
    reason,
    thread_score,
)

_DAY = 86400.0


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
    # What was compared, for keeping with the story (the next poll then need not extract it again).
    features: StoryFeatures | None = None


class _Groups:
    """Union-find over thread keys, so merging two threads is cheap and order-free."""

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


def compared_pairs(
    stories: Sequence[Story], params: Params = DEFAULT_PARAMS
) -> Iterator[tuple[int, int, tuple[float, ...]]]:
    """Every two stories within ``event_days`` of each other, as positions, with the terms the event
    score weighs (scoring.EVENT_TERMS): what its weights are fitted on (tools/fit_grouping.py)."""
    window = _Window([], stories, params)
    items = [window.prepare(item) for item in window.fresh]
    span = params.event_days * _DAY
    for i, j in combinations(range(len(items)), 2):
        if abs(items[i].moment - items[j].moment) <= span and not _same_feed(items[i].story, items[j].story):
            yield i, j, event_terms(items[i], items[j], window.weights)


def _same_feed(a: Story, b: Story) -> bool:
    return bool(a.source) and a.source == b.source


def _group(stories: Sequence[Story], params: Params, known: Sequence[Known]) -> list[Assignment]:
    # Sorted by their times as floats: comparing those is much cheaper than comparing datetimes.
    moments = [k.story.published.timestamp() for k in known]
    order = sorted(range(len(known)), key=moments.__getitem__)
    known, moments = [known[i] for i in order], [moments[i] for i in order]
    missing = [k for k in known if k.features is None]
    extracted = iter(extract_many((k.story.title, k.story.summary) for k in missing))
    old = [k.features or next(extracted) for k in known]
    window = _Window(old, stories, params)
    window.add_known(known, old, moments)

    results: dict[int, Assignment] = {}
    for position in sorted(range(len(stories)), key=lambda p: (window.fresh[p].moment, p)):
        story, item = stories[position], window.prepare(window.fresh[position])
        why: list[dict[str, object]] = []
        match = window.closest_event(item)
        if match is not None and match[0] >= params.event_threshold:
            score, other = match
            item.event = other.event
            why.append(reason("same event", other, item, score))
        else:
            item.event = "e:" + story.key
            window.thread_of_event[item.event] = "t:" + story.key
            link = window.closest_thread(item)
            if link is not None and link[0] >= params.thread_threshold:
                score, other = link
                window.threads.union(window.thread_of_event[item.event], window.thread_of_event[other.event])
                why.append(reason("same thread", other, item, score))
        window.add(item)
        results[position] = Assignment(story.key, item.event, "", why, item.features)
    for assignment in results.values():
        assignment.thread = window.threads.find(window.thread_of_event[assignment.event])
    return [results[i] for i in range(len(stories))]


class _Window:
    """The stories grouped so far, in the order they were added, with what finds them: an inverted
    index of their rare words (for events) and one of their specific names (for threads)."""

    def __init__(self, old: list[StoryFeatures], stories: Sequence[Story], params: Params) -> None:
        self.params = params
        new = extract_many((s.title, s.summary) for s in stories)
        features = old + new
        frequency = Counter(chain.from_iterable(map(attrgetter("words"), features)))
        capitalised = Counter(chain.from_iterable(map(attrgetter("names"), features)))
        # A name is a word the window writes with a capital letter nearly every time it appears.
        plain = {w for w, n in capitalised.items() if n < 0.8 * frequency[w]}
        # ... and is specific when few stories carry it ("Clorox", not "AI" or "China"): only such
        # names anchor an event or a thread.
        limit = max(params.anchor_min, min(params.anchor_share * len(features), params.anchor_max))
        plain |= {w for w, n in capitalised.items() if n > limit}
        self.plain = frozenset(plain)
        total = max(len(features), 1)
        idf = idf_weights(frequency, total)
        scaled = {w: idf[w] * (params.background if w in BACKGROUND else 1) for w in capitalised}
        self.weights = Weights(idf, {w: v * v for w, v in idf.items()}, {w: v * v for w, v in scaled.items()})
        common = max(50, int(params.common_share * total))
        too_common = frozenset(w for w, n in frequency.items() if n > common)
        # Every story's meaning, as rows of one array: old stories first, then the new ones.
        self.vectors = matrix([f.meaning for f in features])
        fresh = zip(stories, new, self.vectors[len(old) :], strict=True)
        self.fresh = [Indexed(s, f, self.anchors(f), s.published.timestamp(), vector=v) for s, f, v in fresh]
        # Only new stories look for candidates, and only by their own words and names: the window's
        # other words need no postings (in a poll of a few new stories, that is nearly all of them).
        self.wanted_words = frozenset[str]().union(*(f.words for f in new)) - too_common
        self.wanted_names = frozenset[str]().union(*(i.anchors for i in self.fresh)) - too_common
        # A story more than event_days older than every new one can only be found as a thread's
        # earlier event, by its names: most of a 30-day window needs no place in the word index.
        first = min((i.moment for i in self.fresh), default=math.inf)
        self.words_from = first - params.event_days * _DAY

        self.done: list[Indexed | None] = []
        self.known: Sequence[Known] = ()
        self.known_features: Sequence[StoryFeatures] = ()
        # The latest publication up to each position: never decreasing, so the start of a time
        # window is found by bisection.
        self.latest: list[float] = []
        self.words: dict[str, list[int]] = defaultdict(list)
        self.names: dict[str, list[int]] = defaultdict(list)
        self.members: dict[str, list[Indexed]] = defaultdict(list)
        # An event is never merged into another here (editors do that, see decisions): only threads are.
        self.threads = _Groups()
        self.thread_of_event: dict[str, str] = {}

    def anchors(self, features: StoryFeatures) -> frozenset[str]:
        names = features.names
        return names if names.isdisjoint(self.plain) else names - self.plain

    def add_known(self, known: Sequence[Known], features: Sequence[StoryFeatures], moments: list[float]) -> None:
        """Take in the window's grouped stories, oldest first, before any new one."""
        # Most of a window is only ever looked up by its names, and few of those stories are ever
        # compared: each is made into an Indexed when it first is (see _item).
        self.known, self.known_features = known, features
        self.done.extend([None] * len(known))
        self.latest.extend(moments)
        self.thread_of_event.update(zip(map(attrgetter("event"), known), map(attrgetter("thread"), known), strict=True))
        words, wanted = self.words, self.wanted_words
        recent = bisect_left(moments, self.words_from)
        for position in range(recent, len(known)):
            item = self._item(position)
            for word in item.features.words & wanted:
                words[word].append(position)
            # An older story is never within event_days of a new one: its event needs no list of it.
            self.members[item.event].append(item)
        # A story's anchors are its names less the window's plain words, and no wanted name is plain.
        names, wanted = self.names, self.wanted_names
        for position, f in enumerate(features):
            for name in f.names & wanted:
                names[name].append(position)

    def _item(self, position: int) -> Indexed:
        """The grouped story at ``position``, made into an Indexed the first time it is needed."""
        item = self.done[position]
        if item is None:
            k, f = self.known[position], self.known_features[position]
            vector = self.vectors[position]
            item = self.done[position] = Indexed(
                k.story, f, self.anchors(f), self.latest[position], k.event, vector=vector
            )
        return item

    def prepare(self, item: Indexed) -> Indexed:
        return prepare(item, self.weights, BACKGROUND)

    def add(self, item: Indexed) -> None:
        position = len(self.done)
        self.done.append(item)
        self.latest.append(max(item.moment, self.latest[-1]) if self.latest else item.moment)
        for word in item.features.words & self.wanted_words:
            self.words[word].append(position)
        self.members[item.event].append(item)
        for name in item.anchors & self.wanted_names:
            self.names[name].append(position)

    def closest_event(self, item: Indexed) -> tuple[float, Indexed] | None:
        """The event whose stories are on average most similar to ``item`` (average link), with its
        story most like ``item``; one similar story alone does not pull a different event in."""
        params, weights = self.params, self.weights
        span = params.event_days * _DAY
        words = self.words.keys() & item.features.words
        if not words:
            return None
        idf, inverse = weights.idf, item.inverse
        found = self._candidates(item, self.words, [(w, idf[w] * inverse) for w in sorted(words)], span, event_score)
        scored = {id(other): score for score, other in found}
        best: tuple[float, Indexed] | None = None
        seen: set[str] = set()
        for _, other in found:
            event = other.event
            if event in seen:
                continue
            seen.add(event)
            near = [m for m in self.members[event][-8:] if abs(item.moment - m.moment) <= span]
            if any(_same_feed(item.story, m.story) for m in near):
                continue  # its feed reported this event already: this is another development
            scores = [
                scored[id(m)] if id(m) in scored else event_score(item, self.prepare(m), weights, params) for m in near
            ] or [0.0]
            value = sum(scores) / len(scores)
            if best is None or value > best[0]:
                best = (value, near[scores.index(max(scores))] if near else other)
        return best

    def closest_thread(self, item: Indexed) -> tuple[float, Indexed] | None:
        """The earlier story within ``thread_days`` most like ``item`` by its specific names."""
        names, inverse = self.weights.names, item.inverse_names
        keys = sorted(self.names.keys() & item.anchors)
        weighted = [(n, math.sqrt(names[n] * inverse)) for n in keys]
        found = self._candidates(item, self.names, weighted, self.params.thread_days * _DAY, thread_score)
        return found[0] if found else None

    def _candidates(
        self,
        item: Indexed,
        index: dict[str, list[int]],
        keys: list[tuple[str, float]],
        span: float,
        score: Callable[[Indexed, Indexed, Weights, Params], float],
    ) -> list[tuple[float, Indexed]]:
        """Earlier stories within ``span`` seconds that share a rare word with ``item`` (the most
        rare words by weight), most similar first."""
        partial: dict[int, float] = {}
        # Postings are in the order stories were added, so the part before the window is skipped whole.
        start = bisect_left(self.latest, item.moment - span)
        for key, weight in keys:
            postings = index[key]
            for position in postings[bisect_left(postings, start) if start else 0 :]:
                partial[position] = partial.get(position, 0.0) + weight
        count = self.params.candidates
        best = partial if len(partial) <= count else heapq.nlargest(count, partial, partial.__getitem__)
        found = []
        for position in best:
            other = self._item(position)
            if abs(item.moment - other.moment) <= span:
                if other.inverse_names < 0:
                    self.prepare(other)
                found.append((score(item, other, self.weights, self.params), other))
        found.sort(key=lambda f: -f[0])
        return found

"""Measuring grouping against labelled stories: pairwise precision, recall and F1, and the baseline.

A labelled story says which event and which thread it belongs to. Every pair of stories is a question
("same group?"), so a grouping is scored by how many pairs it gets right; the baseline is a plain
TF-IDF cosine of headline + summary with a date window, joined by single link.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import combinations
from pathlib import Path

from digest.events.features import idf_weights
from digest.events.scoring import Story


@dataclass(frozen=True, slots=True)
class Labelled:
    story: Story  # its source is the outlet that published it
    event: str
    thread: str


@dataclass(frozen=True, slots=True)
class Scores:
    precision: float
    recall: float
    f1: float

    def __str__(self) -> str:
        return f"P {self.precision:.3f}  R {self.recall:.3f}  F1 {self.f1:.3f}"


def load_labelled(path: Path) -> list[Labelled]:
    """Stories of a JSONL file with "event" and "thread" labels."""
    result = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            source = str(item.get("source", ""))
            summary, published = item.get("summary", ""), parse_published(item["published"])
            story = Story(str(item["id"]), item["title"], summary, published, source)
            result.append(Labelled(story, item["event"], item["thread"]))
    return result


def parse_published(value: str) -> datetime:
    """An ISO 8601 time ("Z" allowed); naive times are taken as UTC."""
    from datetime import UTC

    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def pairwise(truth: Sequence[str], predicted: Sequence[str]) -> Scores:
    """Pairwise precision, recall and F1 of a grouping against the true groups (same order)."""
    tp = fp = fn = 0
    for i, j in combinations(range(len(truth)), 2):
        same, guessed = truth[i] == truth[j], predicted[i] == predicted[j]
        tp += same and guessed
        fp += guessed and not same
        fn += same and not guessed
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1)


def baseline_groups(stories: Sequence[Story], threshold: float, days: float) -> list[str]:
    """Single-link groups of stories whose TF-IDF cosine reaches ``threshold`` within ``days``."""
    import re

    token = re.compile(r"\w+")
    words = [set(token.findall((s.title + " " + s.summary).lower())) for s in stories]
    frequency: dict[str, int] = {}
    for ws in words:
        for w in ws:
            frequency[w] = frequency.get(w, 0) + 1
    idf = idf_weights(frequency, len(stories))
    vectors = [weighted(ws, idf, 1.0) for ws in words]
    parent = list(range(len(stories)))

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    window = timedelta(days=days)
    for i, j in combinations(range(len(stories)), 2):
        if abs(stories[i].published - stories[j].published) <= window and cosine(vectors[i], vectors[j]) >= threshold:
            parent[find(j)] = find(i)
    return [str(find(i)) for i in range(len(stories))]


def weighted(words: Iterable[str], idf: Mapping[str, float], default: float) -> dict[str, float]:
    """A unit-length TF-IDF vector of a set of words (each word counted once)."""
    vector = {w: idf.get(w, default) for w in words}
    norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
    return {w: v / norm for w, v in vector.items()}


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(w, 0.0) for w, v in a.items())

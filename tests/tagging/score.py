"""Tagging quality: the labelled story sets, and per-topic precision, recall and F1 of a tagger on them.

Four kinds of labelled set:
- the shared development set (../shared/data/tagging-dev.jsonl);
- our written cases (tests/tagging/cases*.jsonl);
- real news, development part (tests/tagging/real/dev-*.jsonl), for tuning rules;
- real news, held-out part (tests/tagging/real/heldout-*.jsonl): scored so often while the rules
  changed that it now counts as seen, and the learned layer trains on it;
- real news, second held-out part (tests/tagging/real/heldout2-*.jsonl), scored only to report:
  whoever changes the rules or the learned layer never reads these files or their misses;
- the corrections pool (tests/tagging/real/pool-*.jsonl): stories editors' corrections are drawn
  from when their gain is measured (bench/learn.py), never trained on otherwise.

Real news comes two ways. Stories of the captured feeds in ../shared/data/real-feeds are stored here
only as ids and labels (``{"id": "FILE#N", "title_hash", "topics", "note"?, "kind"?}``): the text is
re-read from the feed files with the poll's own parser, entry N of FILE, and ``title_hash`` checks
that entry N is still the story that was labelled. Stories written down from public news carry their
text (``{"id", "title", "summary", "topics", "source", "kind"?}``).

``kind`` names the near miss a story stands for (see ``NEAR_MISSES``); a story without it is an
ordinary one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from digest.feeds.parse import ParsedEntry

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
REAL = HERE / "real"
SHARED_DATA = ROOT.parent / "shared" / "data"
REAL_FEEDS = SHARED_DATA / "real-feeds"
TOPICS = ("ai-misuse", "child-protection", "deepfakes")

# The near misses of the topic definitions' three general rules, each as a ``kind``.
NEAR_MISSES = {
    "attack-on-ai": "an intrusion into, or a flaw in, an AI company or product (not ai-misuse)",
    "ai-defence": "AI used for defence: finding vulnerabilities, triaging alerts (not ai-misuse)",
    "false-ai-claims": "a regulator acting on false claims about AI (not ai-misuse by itself)",
    "school-no-pupil-data": "ransomware or fraud against a school with no pupils' data or safety involved",
    "teen-suspect": "a teenager who is the suspect, not the victim (not child-protection)",
    "funding": "a funding round or acquisition, even of a detection or safety company",
    "ai-business": "AI business or product news",
    "ai-policy": "general AI policy that is not about harm (safety institutes, copyright, codes of practice)",
    "word-only": "a topic's word in a story about something else",
    "plain-ai-harm": "harm done by an AI product told without the field's words (ai-misuse)",
}

Tag = Callable[[str, str], Iterable[str]]


@dataclass(frozen=True, slots=True)
class Story:
    id: str
    title: str
    summary: str
    topics: frozenset[str]
    kind: str | None = None


@dataclass(slots=True)
class Score:
    """Counts of one tagger on one set; the figures are derived from them."""

    stories: int = 0
    exact: int = 0
    tp: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TOPICS, 0))
    fp: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TOPICS, 0))
    fn: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TOPICS, 0))
    misses: list[str] = field(default_factory=list)

    def precision(self, topic: str) -> float:
        return _ratio(self.tp[topic], self.tp[topic] + self.fp[topic])

    def recall(self, topic: str) -> float:
        return _ratio(self.tp[topic], self.tp[topic] + self.fn[topic])

    def f1(self, topic: str) -> float:
        return _ratio(2 * self.tp[topic], 2 * self.tp[topic] + self.fp[topic] + self.fn[topic])

    @property
    def micro_f1(self) -> float:
        tp, fp, fn = sum(self.tp.values()), sum(self.fp.values()), sum(self.fn.values())
        return _ratio(2 * tp, 2 * tp + fp + fn)

    @property
    def exact_match(self) -> float:
        return _ratio(self.exact, self.stories)


def _ratio(part: int, whole: int) -> float:
    # A topic nobody labelled and nobody tagged is perfect, not undefined.
    return part / whole if whole else 1.0


def score(stories: Iterable[Story], tag: Tag) -> Score:
    """Score ``tag`` on ``stories``; only the launch topics count, so an editor's extra topic costs nothing."""
    result = Score()
    for story in stories:
        got = frozenset(tag(story.title, story.summary)) & frozenset(TOPICS)
        gold = story.topics
        result.stories += 1
        result.exact += got == gold
        for topic in TOPICS:
            result.tp[topic] += topic in got and topic in gold
            result.fp[topic] += topic in got and topic not in gold
            result.fn[topic] += topic in gold and topic not in got
        if got != gold:
            result.misses.append(f"{story.id}: expected {sorted(gold)}, got {sorted(got)}: {story.title}")
    return result


def title_hash(title: str) -> str:
    return hashlib.sha256(title.encode()).hexdigest()[:12]


def parsed_entries(folder: Path = REAL_FEEDS) -> Iterator[tuple[str, ParsedEntry]]:
    """``FILE#N`` and every entry the poll's parser keeps of the captured feeds, in feed order."""
    from digest.feeds.parse import ParseError, parse_feed

    for path in sorted(folder.glob("*.xml*")):
        try:
            parsed = parse_feed(path.read_bytes(), f"https://feeds.example/{path.name}")
        except ParseError:
            continue
        for number, entry in enumerate(parsed.entries):
            yield f"{path.name}#{number}", entry


def feed_entries(folder: Path = REAL_FEEDS) -> dict[str, tuple[str, str]]:
    """``FILE#N`` -> (headline, plain-text summary) of every entry the poll's parser keeps, in feed order."""
    return {key: (entry.title, entry.summary_text) for key, entry in parsed_entries(folder)}


def read_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def load_stories(path: Path, entries: dict[str, tuple[str, str]] | None = None) -> list[Story]:
    """The stories of one labelled file; feed stories get their text from ``entries`` (see ``feed_entries``).

    Raises ValueError naming the story when a feed story's entry is missing or is no longer the one
    that was labelled, so a changed parser cannot silently score against the wrong labels.
    """
    stories = []
    for item in read_jsonl(path):
        story_id = str(item["id"])
        if "title" in item:
            title, summary = str(item["title"]), str(item.get("summary", ""))
        else:
            if entries is None:
                entries = feed_entries()
            if story_id not in entries:
                raise ValueError(f"{path.name}: {story_id} is not an entry of {REAL_FEEDS}")
            title, summary = entries[story_id]
            if title_hash(title) != item["title_hash"]:
                raise ValueError(f"{path.name}: {story_id} is now {title!r}, not the story that was labelled")
        topics = item["topics"]
        if not isinstance(topics, list):
            raise ValueError(f"{path.name}: {story_id} has topics {topics!r}, not a list")
        kind = item.get("kind")
        stories.append(Story(story_id, title, summary, frozenset(map(str, topics)), str(kind) if kind else None))
    return stories


def labelled_sets(entries: dict[str, tuple[str, str]] | None = None) -> dict[str, list[Story]]:
    """Every labelled set by name: development, cases, real dev, real held-out (those present)."""
    sets: dict[str, list[Story]] = {}
    dev = SHARED_DATA / "tagging-dev.jsonl"
    if dev.exists():
        sets["development set"] = load_stories(dev)
    sets["written cases"] = [s for path in sorted(HERE.glob("cases*.jsonl")) for s in load_stories(path)]
    needs_feeds = any("feeds" in p.name for p in REAL.glob("*.jsonl"))
    if needs_feeds and entries is None and REAL_FEEDS.exists():
        entries = feed_entries()
    for part in ("dev", "heldout", "heldout2"):
        paths = sorted(REAL.glob(f"{part}-*.jsonl"))
        if entries is None:
            paths = [p for p in paths if "feeds" not in p.name]
        if paths:
            sets[f"real {part}"] = [s for path in paths for s in load_stories(path, entries)]
    return sets

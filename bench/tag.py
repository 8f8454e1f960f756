"""Benchmark: how fast the tagger tags stories (headline + summary), against a minimal baseline.

Three corpora, each repeated to N stories:
- labelled: the labelled sets (tests/tagging/*.jsonl and, when present, ../shared's development set);
- real: the headlines and summaries of the real captured feeds in ../shared/data/real-feeds, read
  with the feed parser the poll uses (feedparser, HTML stripped to plain text), when present;
- dense: keyword-dense stories generated from the ruleset's own phrases, every other word a topic
  word, with headline and summary lengths like real ones (the worst case for the tagger).

The baseline is the least any tagger must do: fold case and run one compiled regular expression of
the three topic names over each story. Rates are stories per second of this process's CPU time in
the fastest of five rounds, so other work on the machine counts against them as little as it can.
The tagger runs twice: with the rules alone, and with the shipped learned layer beside them.
Targets: at least 20,000 stories/s on the labelled and real stories, at least 10,000 stories/s on
the dense ones.

    python bench/tag.py [--stories 50000]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import replace
from itertools import cycle, islice
from pathlib import Path

from digest.tagging.learned import load_model
from digest.tagging.rules import Ruleset, load_rules
from digest.tagging.tagger import tag_story

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

Story = tuple[str, str]  # headline, summary

# Ordinary news words between the topic words of the dense corpus.
FILLER = (
    "the",
    "a",
    "of",
    "to",
    "in",
    "on",
    "for",
    "with",
    "by",
    "from",
    "after",
    "over",
    "as",
    "and",
    "new",
    "says",
    "said",
    "report",
    "week",
    "court",
    "company",
    "state",
    "police",
    "users",
    "people",
    "government",
    "officials",
    "group",
    "law",
    "bill",
    "plan",
    "its",
    "their",
    "city",
    "year",
    "data",
    "online",
    "site",
    "service",
    "app",
    "platform",
    "network",
    "experts",
    "study",
    "public",
    "national",
    "local",
    "former",
    "first",
)
# What a word ending in "*" is given in the dense corpus (the editors' "clon*": clone, cloned, ...).
ENDINGS = ("", "s", "ed", "ing", "er", "ers", "ation")


def labelled_stories() -> list[Story]:
    paths = sorted((ROOT / "tests" / "tagging").glob("*.jsonl"))
    dev = SHARED_DATA / "tagging-dev.jsonl"
    if dev.exists():
        paths.append(dev)
    stories = []
    for path in paths:
        for line in path.read_text().splitlines():
            if line.strip():
                item = json.loads(line)
                stories.append((item["title"], item.get("summary", "")))
    return stories


def real_feed_stories(folder: Path = SHARED_DATA / "real-feeds") -> list[Story]:
    """Headline and plain-text summary of every entry of the captured feeds, as a poll stores them."""
    from digest.feeds.parse import ParseError, parse_feed

    stories: list[Story] = []
    for path in sorted(folder.glob("*.xml*")):
        try:
            parsed = parse_feed(path.read_bytes(), f"https://feeds.example/{path.name}")
        except ParseError:
            continue
        stories.extend((entry.title, entry.summary_text) for entry in parsed.entries)
    return stories


def dense_stories(ruleset: Ruleset, count: int, seed: int = 0) -> list[Story]:
    """Stories in which every other word is a topic word from the ruleset's own phrases.

    Deterministic for a ruleset and seed. Headlines have 6-13 words and summaries 12-40, about the
    lengths of the real feeds' (8 and 22 on average). A phrase of several words is written whole,
    its words joined by spaces or hyphens; a word ending in "*" gets one of a few endings.
    """
    rng = random.Random(seed)
    phrases = [p.text for p in ruleset.phrases if not p.text.startswith("re:")]

    def topic_words() -> list[str]:
        words = [w for w in re.split(r"[\s\-]+", rng.choice(phrases).strip()) if w]
        words = [w[:-1] + rng.choice(ENDINGS) if w.endswith("*") else w for w in words]
        if len(words) > 1 and rng.random() < 0.3:
            return ["-".join(words)]
        return words

    def text(length: int) -> list[str]:
        words: list[str] = []
        while len(words) < length:
            words.append(rng.choice(FILLER))
            words.extend(topic_words())
        return words

    stories = []
    for _ in range(count):
        title = " ".join(text(rng.randint(6, 13)))
        summary = " ".join(text(rng.randint(12, 40))) + "."
        stories.append((title[:1].upper() + title[1:], summary[:1].upper() + summary[1:]))
    return stories


def rate(stories: list[Story], work: Callable[[str, str], object], rounds: int = 5) -> tuple[float, int]:
    """Stories per CPU second in the fastest of ``rounds`` equal rounds (other work on the machine
    only ever slows a round down), and how many stories ``work`` found something in."""
    size = max(len(stories) // rounds, 1)
    fastest, hits = float("inf"), 0
    for start in range(0, size * rounds, size):
        batch = stories[start : start + size]
        started = time.process_time()
        hits += sum(1 for t, s in batch if work(t, s))
        fastest = min(fastest, time.process_time() - started)
    return size / max(fastest, 1e-9), hits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stories", type=int, default=50_000)
    args = parser.parse_args()
    ruleset = load_rules(ROOT / "config" / "topics.toml")
    learned = replace(ruleset, learned=load_model(ROOT / "config" / "learned.json"))  # the shipped weights
    baseline_pattern = re.compile(r"\b(?:deepfake|child|ai)\b")
    corpora = {"labelled": labelled_stories(), "real": real_feed_stories(), "dense": dense_stories(ruleset, 5_000)}
    targets = {"labelled": 20_000, "real": 20_000, "dense": 10_000}

    print(f"tagging: {args.stories:,} stories per corpus (headline + summary), {len(ruleset.phrases)} phrases")
    for name, distinct in corpora.items():
        if not distinct:
            print(f"  {name}: skipped ({SHARED_DATA / 'real-feeds'} is absent)")
            continue
        stories = list(islice(cycle(distinct), args.stories))
        baseline, baseline_hits = rate(stories, lambda t, s: baseline_pattern.search((t + " " + s).lower()))
        tagger, tagged = rate(stories, lambda t, s: tag_story(ruleset, t, s).topics)
        both, both_tagged = rate(stories, lambda t, s: tag_story(learned, t, s).topics)
        print(f"  {name} ({len(distinct):,} distinct stories)")
        print(f"    baseline, one regex per story  {baseline:12,.0f} stories/s ({baseline_hits:,} hits)")
        print(f"    tag_story, rules alone         {tagger:12,.0f} stories/s ({tagged:,} tagged)")
        print(f"    tag_story, with learned layer  {both:12,.0f} stories/s ({both_tagged:,} tagged)")
        print(
            f"    ratio tagger / baseline        {tagger / baseline:12.3f}   (target: >= {targets[name]:,} stories/s)"
        )
        print(f"    ratio with layer / baseline    {both / baseline:12.3f}   (/ rules alone: {both / tagger:.3f})")


if __name__ == "__main__":
    main()

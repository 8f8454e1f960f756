"""Benchmark: how fast the tagger tags stories (headline + summary), against a minimal baseline.

The stories are the labelled sets (tests/tagging/*.jsonl and, when present, ../shared's development
set) repeated to N. The baseline is the least any tagger must do: fold case and run one compiled
regular expression of the three topic names over each story. Target: at least 20,000 stories/s.

    python bench/tag.py [--stories 50000]
"""

from __future__ import annotations

import argparse
import json
import re
import time
from itertools import cycle, islice
from pathlib import Path

from digest.tagging.rules import load_rules
from digest.tagging.tagger import tag_story

ROOT = Path(__file__).resolve().parents[1]


def load_stories() -> list[tuple[str, str]]:
    paths = sorted((ROOT / "tests" / "tagging").glob("*.jsonl"))
    dev = ROOT.parent / "shared" / "data" / "tagging-dev.jsonl"
    if dev.exists():
        paths.append(dev)
    stories = []
    for path in paths:
        for line in path.read_text().splitlines():
            if line.strip():
                item = json.loads(line)
                stories.append((item["title"], item.get("summary", "")))
    return stories


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stories", type=int, default=50_000)
    args = parser.parse_args()
    ruleset = load_rules(ROOT / "config" / "topics.toml")
    stories = list(islice(cycle(load_stories()), args.stories))
    baseline_pattern = re.compile(r"\b(?:deepfake|child|ai)\b")

    started = time.perf_counter()
    baseline_hits = sum(1 for t, s in stories if baseline_pattern.search((t + " " + s).lower()))
    baseline = time.perf_counter() - started

    started = time.perf_counter()
    tagged = sum(1 for t, s in stories if tag_story(ruleset, t, s).topics)
    elapsed = time.perf_counter() - started

    print(f"tagging: {len(stories):,} stories (headline + summary), {len(ruleset.phrases)} phrases in the rules")
    print(f"  baseline, one regex per story  {len(stories) / baseline:12,.0f} stories/s ({baseline_hits:,} hits)")
    print(f"  tag_story                      {len(stories) / elapsed:12,.0f} stories/s ({tagged:,} tagged)")
    print(f"  ratio tagger / baseline        {baseline / elapsed:12.3f}   (target: >= 20,000 stories/s)")


if __name__ == "__main__":
    main()

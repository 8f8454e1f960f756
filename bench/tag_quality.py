"""Tagging quality: per-topic precision, recall and F1, micro-F1 and exact match of the project's tagger.

Sets (see tests/tagging/score.py): the shared development set, our written cases, real news
development part and real news held-out part. The held-out part is scored to report only; its
misses are never printed, so tuning the rules cannot lean on them. ``--misses`` lists the wrong
stories of the other sets. A row per near-miss kind says how many of those stories were tagged
exactly right.

    python bench/tag_quality.py [--misses]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the labelled sets and the scorer live beside the tests

from digest.tagging.rules import load_rules  # noqa: E402
from digest.tagging.tagger import tag_story  # noqa: E402
from tests.tagging.score import NEAR_MISSES, TOPICS, Score, Story, Tag, labelled_sets, score  # noqa: E402


def report(name: str, stories: list[Story], result: Score) -> list[str]:
    lines = [f"{name}: {result.stories} stories"]
    for topic in TOPICS:
        gold = result.tp[topic] + result.fn[topic]
        lines.append(
            f"  {topic:<17} P {result.precision(topic):.3f}  R {result.recall(topic):.3f}  "
            f"F1 {result.f1(topic):.3f}  ({gold} labelled)"
        )
    lines.append(f"  micro-F1 {result.micro_f1:.3f}   exact match {result.exact_match:.3f}")
    kinds = Counter(s.kind for s in stories if s.kind)
    if kinds:
        wrong = Counter(s.kind for s in stories if s.kind and any(m.startswith(f"{s.id}: ") for m in result.misses))
        near = ", ".join(f"{kind} {kinds[kind] - wrong[kind]}/{kinds[kind]}" for kind in NEAR_MISSES if kinds[kind])
        lines.append(f"  near misses right: {near}")
    return lines


def by_source(stories: list[Story], tag: Tag) -> str:
    """One line scoring the feed stories ("FILE#N" ids) and the written ones apart."""
    parts = {"feeds": [s for s in stories if "#" in s.id], "written": [s for s in stories if "#" not in s.id]}
    scored = [(source, len(part), score(part, tag)) for source, part in parts.items() if part]
    return "  by source: " + "; ".join(
        f"{source} {n} micro-F1 {r.micro_f1:.3f} exact {r.exact_match:.3f}" for source, n, r in scored
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--misses", action="store_true", help="list the wrong stories (never of the held-out part)")
    # `./run bench ARGS` hands every script the same arguments; the others' are not ours to refuse.
    args, _ = parser.parse_known_args()
    ruleset = load_rules(ROOT / "config" / "topics.toml")

    def tag(title: str, summary: str) -> tuple[str, ...]:
        return tag_story(ruleset, title, summary).topics

    for name, stories in labelled_sets().items():
        result = score(stories, tag)
        print("\n".join(report(name, stories, result)))
        if name.startswith("real"):
            print(by_source(stories, tag))
        if args.misses and "heldout" not in name:
            print("\n".join(f"    {miss}" for miss in result.misses))


if __name__ == "__main__":
    main()

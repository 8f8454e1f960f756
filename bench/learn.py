"""Benchmark: how much editors' corrections improve the tagger on stories it has not seen.

Corrections are drawn from the labelled development stories (the real-news development part, our
written cases and the shared development set); the score is taken on the real-news held-out part
(figures only, never its misses), or with --split on the half of the development stories a hash of
their ids sets aside (then corrections come from the other half). Simulated editors read the pool's
stories in a fixed random order and correct every topic the rules got wrong (a pin on or off) until
they have made N corrections; the stories they read are the stored stories. The best proposal of
`digest tagging suggest` is then applied again and again while one helps
(digest.tagging.suggest.learn_rules), and the evaluation set is scored before and after. Rules:
config/topics.toml, or --rules FILE (for example an older version of it, which makes more mistakes
to correct).

    python bench/learn.py [--rules FILE] [--corrections 50 200] [--split]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the labelled sets and the scorer live beside the tests

from digest.tagging.rules import compile_rules  # noqa: E402
from digest.tagging.suggest import StoryText, learn_rules  # noqa: E402
from digest.tagging.tagger import tag_story  # noqa: E402
from tests.tagging.score import REAL, Story, feed_entries, load_stories, score  # noqa: E402

TOPICS = ("ai-misuse", "child-protection", "deepfakes")


def development_stories() -> list[Story]:
    entries = feed_entries()
    paths = sorted(REAL.glob("dev-*.jsonl")) + sorted((ROOT / "tests" / "tagging").glob("cases*.jsonl"))
    shared = ROOT.parent / "shared" / "data" / "tagging-dev.jsonl"
    return [s for p in [*paths, *([shared] if shared.exists() else [])] for s in load_stories(p, entries)]


def half(story: Story) -> int:
    return hashlib.sha1(story.id.encode()).digest()[0] % 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rules", type=Path, default=ROOT / "config" / "topics.toml")
    parser.add_argument("--corrections", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--split", action="store_true", help="Score half of the development stories instead.")
    args, _ignored = parser.parse_known_args()  # ./run bench passes every script the same arguments
    data = tomllib.loads(args.rules.read_text())
    ruleset = compile_rules(data, str(args.rules))
    stories = development_stories()
    if args.split:
        pool = [s for s in stories if half(s) == 0]
        evaluation = [s for s in stories if half(s) == 1]
    else:
        pool = stories
        evaluation = [s for p in sorted(REAL.glob("heldout-*.jsonl")) for s in load_stories(p, feed_entries())]
    random.Random(0).shuffle(pool)

    def measured(rules: object) -> str:
        result = score(evaluation, lambda t, s: tag_story(rules, t, s).topics)  # type: ignore[arg-type]
        return f"micro-F1 {result.micro_f1:.3f}, exact match {result.exact_match:.3f}"

    scored = "half of the development stories" if args.split else "the real-news held-out part"
    print(f"rules {args.rules}; correction pool {len(pool)} stories; scored on {scored} ({len(evaluation)} stories)")
    print(f"  before: {measured(ruleset)}")
    for wanted in args.corrections:
        decisions: dict[int, dict[str, bool]] = {}
        seen: list[StoryText] = []
        made = 0
        for number, story in enumerate(pool):
            if made >= wanted:
                break
            seen.append(StoryText(number, story.title, story.summary))
            got = set(tag_story(ruleset, story.title, story.summary).topics)
            for topic in TOPICS:
                if (topic in got) != (topic in story.topics) and made < wanted:
                    decisions.setdefault(number, {})[topic] = topic in story.topics
                    made += 1
        _data, learned, applied = learn_rules(data, ruleset, decisions, seen)
        print(
            f"  after {made} corrections (asked for {wanted}; {len(seen)} stories read), "
            f"{len(applied)} proposals applied: {measured(learned)}"
        )
        for proposal in applied:
            print(f"    {proposal.describe()}")


if __name__ == "__main__":
    main()

"""Benchmark: how much editors' corrections improve the tagger on stories it has not seen.

Simulated editors read the corrections pool (tests/tagging/real/pool*-written.jsonl and
train-written.jsonl; with --split, or when there is no pool, half of the development stories a
hash of their ids sets aside) in a fixed random order and correct every topic the tagger got wrong
(a pin on or off) until they have made N
corrections. Two ways of learning from them are measured:
- rules: the best proposal of `digest tagging suggest` is applied again and again while one helps
  (digest.tagging.suggest.learn_rules), the learned layer left as it was;
- learned layer: the layer is retrained on its labelled stories and the pins, as `digest retag
  --learn` does (digest.tagging.train).
Each is scored before and after on held-out stories, figures only, never their misses:
- the second held-out part, against the shipped weights (trained on the labelled stories of
  tests/tagging/examples.py);
- the first held-out part, against weights trained without it (so that it is unseen by the layer).

    python bench/learn.py [--corrections 50 200] [--split]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import tomllib
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the labelled sets and the scorer live beside the tests

from digest.tagging.rules import Ruleset, compile_rules  # noqa: E402
from digest.tagging.suggest import StoryText, learn_rules  # noqa: E402
from digest.tagging.tagger import tag_story  # noqa: E402
from digest.tagging.train import Example, examples_from_pins, train_model  # noqa: E402
from tests.tagging.examples import TRAINED_ON  # noqa: E402
from tests.tagging.score import REAL, TOPICS, Story, feed_entries, labelled_sets, load_stories, score  # noqa: E402

RULES = ROOT / "config" / "topics.toml"


def half(story: Story) -> int:
    return hashlib.sha1(story.id.encode()).digest()[0] % 2


def corrections(ruleset: Ruleset, pool: list[Story], wanted: int) -> tuple[dict[int, dict[str, bool]], list[Story]]:
    """The first ``wanted`` corrections of the tagger's mistakes on ``pool`` (story number -> topic ->
    on/off), and the stories read to find them."""
    decisions: dict[int, dict[str, bool]] = {}
    made = 0
    for number, story in enumerate(pool):
        if made >= wanted:
            return decisions, pool[:number]
        got = set(tag_story(ruleset, story.title, story.summary).topics)
        for topic in TOPICS:
            if (topic in got) != (topic in story.topics) and made < wanted:
                decisions.setdefault(number, {})[topic] = topic in story.topics
                made += 1
    return decisions, pool


def figures(ruleset: Ruleset, stories: list[Story]) -> str:
    result = score(stories, lambda title, summary: tag_story(ruleset, title, summary).topics)
    per_topic = ", ".join(f"{topic} {result.f1(topic):.3f}" for topic in TOPICS)
    return f"micro-F1 {result.micro_f1:.3f}, exact {result.exact_match:.3f} (F1 {per_topic})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corrections", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--split", action="store_true", help="Draw corrections from half of the development stories.")
    args, _ignored = parser.parse_known_args()  # ./run bench passes every script the same arguments
    data = tomllib.loads(RULES.read_text())
    rules = compile_rules(data, str(RULES))
    entries = feed_entries()
    sets = labelled_sets(entries)
    labelled = {name: sets.get(name, []) for name in TRAINED_ON}
    # Every labelled part that neither the shipped weights nor the rules were made from: the pools,
    # and the training stories that were written but not shipped (README "The learned layer").
    pool_paths = sorted(REAL.glob("pool*-written.jsonl")) + sorted(REAL.glob("train-written.jsonl"))
    if args.split or not pool_paths:
        pool = [s for name in ("real dev", "written cases") for s in labelled[name] if half(s) == 0]
        labelled = {name: [s for s in stories if half(s) == 1] for name, stories in labelled.items()}
        source = "half of the development stories"
    else:
        pool = [s for path in pool_paths for s in load_stories(path, entries)]
        source = ", ".join(p.name for p in pool_paths)
    random.Random(0).shuffle(pool)

    def examples(names: tuple[str, ...]) -> list[Example]:
        return [Example(s.title, s.summary, s.topics) for n in names for s in labelled[n]]

    # Each evaluation set with the labelled stories its base layer is trained on (never itself).
    evaluations = [
        ("second held-out part", sets.get("real heldout2", []), TRAINED_ON),
        ("first held-out part", sets.get("real heldout", []), tuple(n for n in TRAINED_ON if n != "real heldout")),
    ]
    print(f"correction pool: {source}, {len(pool)} stories")
    for label, evaluation, trained_on in evaluations:
        if not evaluation:
            print(f"{label}: absent")
            continue
        base_examples = examples(trained_on)
        base = replace(rules, learned=train_model(rules, base_examples))
        print(f"{label} ({len(evaluation)} stories); the layer trained on {len(base_examples)} labelled stories")
        print(f"  rules alone:              {figures(rules, evaluation)}")
        print(f"  rules + layer, before:    {figures(base, evaluation)}")
        for wanted in args.corrections:
            decisions, read = corrections(base, pool, wanted)
            made = sum(len(d) for d in decisions.values())
            texts = {number: (s.title, s.summary) for number, s in enumerate(pool)}
            retrained = train_model(rules, [*base_examples, *examples_from_pins(rules, decisions, texts)])
            seen = [StoryText(number, s.title, s.summary) for number, s in enumerate(read)]
            _data, proposed, applied = learn_rules(data, base, decisions, seen)
            print(f"  {made} corrections (asked for {wanted}; {len(read)} stories read):")
            print(f"    layer retrained:        {figures(replace(rules, learned=retrained), evaluation)}")
            print(f"    {len(applied):>2} rule proposals:      {figures(proposed, evaluation)}")


if __name__ == "__main__":
    main()

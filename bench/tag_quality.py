"""Tagging quality: per-topic precision, recall and F1, micro-F1 and exact match of the project's tagger,
the rules alone and the rules with the shipped learned layer (config/learned.json).

Sets (see tests/tagging/score.py): the shared development set, our written cases, real news
development part, the first real-news held-out part (now seen: the learned layer trains on it) and
the second held-out part. The learned layer is trained on the first four, so its figures there are
training figures; for the first held-out part the script also prints a cross-validated figure: in
five folds, each fold's stories are tagged by weights trained without them. The second held-out
part is scored to report only; its misses are never printed, so tuning cannot lean on them.
``--misses`` lists the wrong stories of the other sets (rules alone). A row per near-miss kind says
how many of those stories were tagged exactly right.

    python bench/tag_quality.py [--misses]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the labelled sets and the scorer live beside the tests

from digest.tagging.learned import load_model  # noqa: E402
from digest.tagging.rules import Ruleset, load_rules  # noqa: E402
from digest.tagging.tagger import tag_story  # noqa: E402
from digest.tagging.train import Example, train_model  # noqa: E402
from tests.tagging.examples import TRAINED_ON, WEIGHTS  # noqa: E402
from tests.tagging.score import NEAR_MISSES, TOPICS, Score, Story, Tag, labelled_sets, score  # noqa: E402

FOLDS = 5


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


def tagger(ruleset: Ruleset) -> Tag:
    def tag(title: str, summary: str) -> tuple[str, ...]:
        return tag_story(ruleset, title, summary).topics

    return tag


def fold_of(story: Story) -> int:
    return hashlib.sha1(story.id.encode()).digest()[0] % FOLDS


def cross_validated(ruleset: Ruleset, sets: dict[str, list[Story]], name: str) -> Tag:
    """A tagger that tags each story of ``name`` with weights trained on every training story but
    those of its fold of ``name``."""
    decided: dict[tuple[str, str], Iterable[str]] = {}
    for fold in range(FOLDS):
        stories = [s for n in TRAINED_ON for s in sets.get(n, []) if n != name or fold_of(s) != fold]
        model = train_model(ruleset, [Example(s.title, s.summary, s.topics) for s in stories])
        fold_tagger = tagger(replace(ruleset, learned=model))
        for story in sets[name]:
            if fold_of(story) == fold:
                decided[story.title, story.summary] = fold_tagger(story.title, story.summary)
    return lambda title, summary: decided[title, summary]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--misses", action="store_true", help="list the wrong stories (never of the held-out part)")
    # `./run bench ARGS` hands every script the same arguments; the others' are not ours to refuse.
    args, _ = parser.parse_known_args()
    rules = load_rules(ROOT / "config" / "topics.toml")
    taggers = {
        "rules alone": tagger(rules),
        "rules + learned layer": tagger(replace(rules, learned=load_model(WEIGHTS))),
    }
    sets = labelled_sets()
    for name, stories in sets.items():
        trained = " (the learned layer was trained on these)" if name in TRAINED_ON else ""
        print(f"== {name}{trained}")
        chosen = dict(taggers)
        if name == "real heldout":
            chosen[f"rules + learned layer, cross-validated in {FOLDS} folds"] = cross_validated(rules, sets, name)
        for label, tag in chosen.items():
            result = score(stories, tag)
            print("\n".join(report(f"{label}: {name}", stories, result)))
            if name.startswith("real"):
                print(by_source(stories, tag))
            if args.misses and label == "rules alone" and name != "real heldout2":
                print("\n".join(f"    {miss}" for miss in result.misses))


if __name__ == "__main__":
    main()

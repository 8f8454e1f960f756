"""The labelled stories the learned layer is trained on, shipped as config/tagging-examples.jsonl, and
the weights trained on them alone, shipped as config/learned.json.

Trained on: the shared development set, our written cases, the real-news development part and the
first real-news held-out part (scored so often while the rules changed that it is no longer unseen;
its stories are where the rules' own mistakes look like those on new news, which is what the layer
learns to correct). Never on the second held-out part, nor on the pool corrections are drawn from
when the gain from editors is measured (bench/learn.py).

    python -m tests.tagging.examples      write both files again (after labels or rules change)
"""

from __future__ import annotations

import json

from tests.tagging.score import ROOT, Story, labelled_sets

EXAMPLES = ROOT / "config" / "tagging-examples.jsonl"
WEIGHTS = ROOT / "config" / "learned.json"
TRAINED_ON = ("development set", "written cases", "real dev", "real heldout")


def training_stories() -> list[Story]:
    sets = labelled_sets()
    return [story for name in TRAINED_ON for story in sets.get(name, [])]


def example_lines(stories: list[Story]) -> list[str]:
    return [
        json.dumps({"title": s.title, "summary": s.summary, "topics": sorted(s.topics)}, ensure_ascii=False)
        for s in stories
    ]


def main() -> None:
    from digest.feeds.learning import read_examples_file, write_model
    from digest.tagging.rules import load_rules
    from digest.tagging.train import train_model

    EXAMPLES.write_text("\n".join(example_lines(training_stories())) + "\n", encoding="utf-8")
    ruleset = load_rules(ROOT / "config" / "topics.toml")
    model = train_model(ruleset, read_examples_file(EXAMPLES), {"rules": "topics.toml"})
    write_model(model, WEIGHTS)
    sizes = ", ".join(f"{slug} {len(topic.weights)}" for slug, topic in model.topics.items())
    print(f"{EXAMPLES.name}: {len(read_examples_file(EXAMPLES))} stories; {WEIGHTS.name}: weights per topic {sizes}")


if __name__ == "__main__":
    main()

"""The labelled stories the learned layer is trained on: the weights trained on them, shipped as
config/learned.json, and the stories this project wrote itself, shipped as
config/tagging-examples.jsonl for `digest retag --learn` on a running service.

The shared development set and the stories of the captured real feeds are read from ../shared when
the weights are made and never copied here (their labels are kept as ids and title hashes); so the
shipped examples file holds only our written cases and the written parts of the real-news sets, and
a service retraining with the defaults learns from those and its editors' pins (`--examples` adds
more labelled files).

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


def training_stories(sets: dict[str, list[Story]] | None = None) -> list[Story]:
    """The stories the shipped weights are trained on (``sets``: labelled_sets(), read once by callers
    that need it twice; reading them parses every captured feed)."""
    sets = labelled_sets() if sets is None else sets
    return [story for name in TRAINED_ON for story in sets.get(name, [])]


def shipped_stories(sets: dict[str, list[Story]] | None = None) -> list[Story]:
    """The training stories whose text this project wrote (not read from ../shared)."""
    sets = labelled_sets() if sets is None else sets
    own = [story for name in TRAINED_ON if name != "development set" for story in sets.get(name, [])]
    return [story for story in own if "#" not in story.id]  # "FILE#N": an entry of a captured feed


def example_lines(stories: list[Story]) -> list[str]:
    return [
        json.dumps({"title": s.title, "summary": s.summary, "topics": sorted(s.topics)}, ensure_ascii=False)
        for s in stories
    ]


def main() -> None:
    from digest.feeds.learning import read_examples_file, write_model
    from digest.tagging.rules import load_rules
    from digest.tagging.train import Example, train_model

    sets = labelled_sets()
    EXAMPLES.write_text("\n".join(example_lines(shipped_stories(sets))) + "\n", encoding="utf-8")
    ruleset = load_rules(ROOT / "config" / "topics.toml")
    stories = [Example(s.title, s.summary, frozenset(s.topics)) for s in training_stories(sets)]
    model = train_model(ruleset, stories, {"rules": "topics.toml"})
    write_model(model, WEIGHTS)
    sizes = ", ".join(f"{slug} {len(topic.weights)}" for slug, topic in model.topics.items())
    print(
        f"{EXAMPLES.name}: {len(read_examples_file(EXAMPLES))} of our own stories; "
        f"{WEIGHTS.name}: trained on {len(stories)} stories, weights per topic {sizes}"
    )


if __name__ == "__main__":
    main()

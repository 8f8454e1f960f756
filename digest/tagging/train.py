"""Training the learned layer (digest.tagging.learned) from labelled stories and editors' pins.

Per topic, a linear support vector machine (scikit-learn's LinearSVC) over the features of
learned.story_features. scikit-learn is used here only, when weights are made: tagging reads the
exported weights with a plain dot product. An editor's pin is an example of its own for the topic
it is about (the story's other topics stay as the rules or the labels say), and counts more than a
labelled story: it was made on a story the rules got wrong in real use.

Why these choices (measured on the real-news held-out stories, see README "Learning from editors"):
a linear SVM did better than logistic regression; the rules' own features are given a small value
(RULE_SCALE) so that the model needs larger weights to follow them, which leaves the words more say
where they disagree; and weights of words seen in a single story are dropped, which keeps the file
small and the model from learning a headline by heart.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from digest.tagging.learned import (
    RULE_GIVEN,
    RULE_SCORE,
    RULES_FINGERPRINT,
    LearnedModel,
    TopicModel,
    story_features,
)
from digest.tagging.rules import Ruleset
from digest.tagging.tagger import fold_text, rule_features, tag_story

C = 0.3  # the SVM's regularisation: smaller trusts the rules more
RULE_SCALE = 0.3  # the value of the rules' own features while training
PIN_WEIGHT = 3.0  # an editor's pin counts as this many labelled stories
MIN_STORIES = 2  # a feature of fewer stories than this gets no weight
SMALLEST_WEIGHT = 0.01  # weights below this (in size) are left out of the file


@dataclass(frozen=True, slots=True)
class Example:
    """A labelled story: its topics, or (a pin) only whether it carries some topics and not others."""

    title: str
    summary: str
    topics: frozenset[str] = frozenset()  # the topics it carries, for every topic not in `decided`
    decided: Mapping[str, bool] = field(default_factory=dict)  # editors' pins: topic -> on/off
    weight: float = 1.0


def examples_from_pins(
    ruleset: Ruleset, decisions: Mapping[int, Mapping[str, bool]], texts: Mapping[int, tuple[str, str]]
) -> list[Example]:
    """One example per pinned story: the pins decide their topics, the rules the story's other topics."""
    examples = []
    for story_id, decided in decisions.items():
        if story_id not in texts:
            continue
        title, summary = texts[story_id]
        rules_only = replace(ruleset, learned=None)
        given = frozenset(tag_story(rules_only, title, summary).topics)
        examples.append(Example(title, summary, given, dict(decided), PIN_WEIGHT))
    return examples


def train_model(ruleset: Ruleset, examples: Sequence[Example], about: Mapping[str, Any] | None = None) -> LearnedModel:
    """A learned layer for every topic of ``ruleset`` that has examples both ways."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.svm import LinearSVC

    rules_only = replace(ruleset, learned=None)
    rows = [_row(rules_only, example) for example in examples]
    seen = Counter(feature for row in rows for feature in row)
    kept = [{f: v for f, v in row.items() if seen[f] >= MIN_STORIES} for row in rows]
    vectorizer = DictVectorizer()
    matrix = vectorizer.fit_transform(kept).tocsr()
    # liblinear takes 32-bit indices only.
    matrix.indices = matrix.indices.astype("int32")
    matrix.indptr = matrix.indptr.astype("int32")
    names = vectorizer.get_feature_names_out()
    topics: dict[str, TopicModel] = {}
    for topic in ruleset.topics:
        slug = topic.slug
        labels = [_label(example, slug) for example in examples]
        if all(labels) or not any(labels):
            continue  # nothing to tell apart: the rules alone decide this topic
        svm = LinearSVC(C=C, max_iter=20_000)
        with warnings.catch_warnings():
            # Convergence is reached for our data well within max_iter; a slow case is still usable.
            warnings.simplefilter("ignore")
            svm.fit(matrix, labels, sample_weight=[example.weight for example in examples])
        weights = {}
        for name, weight in zip(names, svm.coef_[0], strict=True):
            if abs(weight) >= SMALLEST_WEIGHT:
                # The rules' features are read with their unscaled values at tagging time.
                scale = RULE_SCALE if name.startswith((RULE_GIVEN, RULE_SCORE)) else 1.0
                weights[str(name)] = float(weight) * scale
        topics[slug] = TopicModel(float(svm.intercept_[0]), weights)
    counts = {
        "examples": sum(not e.decided for e in examples),
        "pins": sum(len(e.decided) for e in examples),
        "C": C,
        "rule_scale": RULE_SCALE,
        "pin_weight": PIN_WEIGHT,
    }
    return LearnedModel(topics, {**counts, **(about or {}), RULES_FINGERPRINT: ruleset.fingerprint})


def _row(ruleset: Ruleset, example: Example) -> dict[str, float]:
    tagging = tag_story(ruleset, example.title, example.summary)
    words = story_features(fold_text(example.title), fold_text(example.summary))
    rules = rule_features(ruleset, tagging.scores, tagging.topics)
    return {**dict.fromkeys(words, 1.0), **{f: v * RULE_SCALE for f, v in rules.items()}}


def _label(example: Example, slug: str) -> bool:
    return example.decided.get(slug, slug in example.topics)


def read_examples(items: Iterable[Mapping[str, Any]]) -> list[Example]:
    """Examples from JSON objects ``{"title", "summary", "topics"}``; ValueError names a bad one."""
    examples = []
    for number, item in enumerate(items, start=1):
        title, summary, topics = item.get("title"), item.get("summary", ""), item.get("topics")
        if not isinstance(title, str) or not isinstance(summary, str) or not isinstance(topics, list):
            raise ValueError(f"example {number}: needs a 'title', a 'summary' and a list of 'topics'")
        examples.append(Example(title, summary, frozenset(map(str, topics))))
    return examples

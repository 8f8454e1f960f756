"""The learned layer beside the rules: per topic, a linear model over the story's words and what the
rules said, whose weights were trained on labelled stories and editors' pins
(digest.tagging.train) and are read here from a JSON file. Pure; no I/O but loading that file.

At tagging time the model is a plain sparse dot product: each feature the story has adds its weight
to the topic's bias, and the topic is given when the sum is above zero. The rules' verdict is one of
the features, so the model keeps the rules' tags unless the words weigh against them, and gives a
topic the rules missed only when the words weigh for it. A tag the model gives keeps a "why": the
rules' phrases when the rules gave it too, else the features that weighed most for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any

from digest.failures import OperatorError
from digest.tagging.phrases import WORDS

FORMAT = 1  # the layout of the weights file; a file of another layout is refused with a message
# How a feature of the rules is spelled: the rules gave the topic ("rule:ai-misuse"), or their score
# for it, in steps of the topic's threshold ("score:ai-misuse", clipped to -1..3).
RULE_GIVEN = "rule:"
RULE_SCORE = "score:"
RULES_FINGERPRINT = "rules_fingerprint"  # the key in "about" naming the rules the weights were trained beside
REASONS = 3  # how many of the heaviest features a learned tag names as its why
# Words that say nothing alone: never named as a reason (their weight still counts).
QUIET = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the to was with".split()  # noqa: SIM905
)


class LearnedError(OperatorError):
    """The weights file is missing, unreadable or of another layout; the message names it."""


@dataclass(frozen=True, slots=True)
class TopicModel:
    bias: float
    weights: dict[str, float]


@dataclass(frozen=True, slots=True)
class LearnedModel:
    topics: dict[str, TopicModel]
    # What it was trained on, for people: counts of examples and pins, the date, the scores measured.
    about: dict[str, Any] = field(default_factory=dict)
    # The same weights as tagging reads them: each feature with its weight for every topic, in the
    # order of `topics`, so that a story costs one look-up per feature whatever the number of topics.
    table: dict[str, tuple[float, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        slugs = list(self.topics)
        table: dict[str, list[float]] = {}
        for column, slug in enumerate(slugs):
            for feature, weight in self.topics[slug].weights.items():
                table.setdefault(feature, [0.0] * len(slugs))[column] = weight
        object.__setattr__(self, "table", {feature: tuple(row) for feature, row in table.items()})

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "about": self.about,
            "topics": {
                slug: {
                    "bias": round(topic.bias, 6),
                    "weights": {f: round(w, 4) for f, w in sorted(topic.weights.items())},
                }
                for slug, topic in self.topics.items()
            },
        }


def _rounded(weights: Mapping[str, float]) -> dict[str, float]:
    return {feature: round(weight, 4) for feature, weight in sorted(weights.items())}


def load_model(path: Path) -> LearnedModel:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LearnedError(f"{path}: learned weights not found (run 'digest retag --learn' to make them)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LearnedError(f"{path}: learned weights unreadable: {exc}") from None
    return model_from_json(data, str(path))


def model_from_json(data: Any, source: str = "learned weights") -> LearnedModel:
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("topics"), dict):
        raise LearnedError(f"{source}: not a weights file of format {FORMAT} (run 'digest retag --learn' again)")
    topics = {}
    try:
        for slug, raw in data["topics"].items():
            weights = {str(f): float(w) for f, w in raw["weights"].items()}
            topics[str(slug)] = TopicModel(float(raw["bias"]), weights)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise LearnedError(f"{source}: a topic's weights are malformed ({exc})") from None
    about = data.get("about")
    return LearnedModel(topics, about if isinstance(about, dict) else {})


def trained_beside(model: LearnedModel, fingerprint: str) -> bool:
    """Whether ``model`` was trained beside the rules of this fingerprint (Ruleset.fingerprint). Weights
    that do not say which rules they were trained beside are taken as matching."""
    recorded = model.about.get(RULES_FINGERPRINT)
    return not isinstance(recorded, str) or not fingerprint or recorded == fingerprint


def story_features(title: str, summary: str) -> set[str]:
    """The word features of one story: the distinct words of its folded (lower-case) headline and
    summary. (Word pairs and headline words as features of their own were measured too, and did no
    better on the held-out stories while costing twice the time.) Training and tagging both use this."""
    return {*WORDS.findall(title), *WORDS.findall(summary)}


def rule_features(scores: Mapping[str, float], given: Iterable[str]) -> dict[str, float]:
    """What the rules said, as features: each topic they gave, and their score for every topic (in
    steps of its threshold, clipped to -1..3)."""
    values = {RULE_GIVEN + slug: 1.0 for slug in given}
    values.update({RULE_SCORE + slug: max(-1.0, min(3.0, score)) for slug, score in scores.items()})
    return values


def decide(model: LearnedModel, words: Iterable[str], rules: Mapping[str, float]) -> dict[str, float]:
    """Each modelled topic's margin (above zero: given): a sparse dot product of the weights with the
    story's distinct words and the rules' features."""
    table = model.table
    rows = list(filter(None, map(table.get, words)))
    for feature, value in rules.items():
        row = table.get(feature)
        if row is not None and value:
            rows.append(row if value == 1.0 else tuple(weight * value for weight in row))
    sums = map(sum, zip(*rows, strict=True)) if rows else repeat(0.0)
    return {slug: topic.bias + total for (slug, topic), total in zip(model.topics.items(), sums, strict=False)}


def reasons(model: LearnedModel, slug: str, words: Iterable[str]) -> list[str]:
    """The story's words that weighed most for ``slug``, heaviest first, each with its weight
    ("learned: chatbot +0.42"): a learned tag's why."""
    weights = model.topics[slug].weights
    heaviest = sorted(((weights[w], w) for w in words if w not in QUIET and weights.get(w, 0.0) > 0), reverse=True)
    return [f"learned: {word} {weight:+.2f}" for weight, word in heaviest[:REASONS]]

"""The learned layer beside the rules: per topic, a linear model over the story's words, neighbouring
word pairs and what the rules said, whose weights were trained on labelled stories and editors' pins
(digest.tagging.train) and are read here from a JSON file. Pure; no I/O but loading that file.

At tagging time the model is a plain sparse dot product: each feature the story has adds its weight
to the topic's bias, and the topic is given when the sum is above zero. The rules' verdict is one of
the features, so the model keeps the rules' tags unless the words weigh against them, and gives a
topic the rules missed only when the words weigh for it. A tag the model gives keeps a "why": the
rules' phrases when the rules gave it too, else the features that weighed most for it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from digest.failures import OperatorError
from digest.tagging.phrases import WORDS

FORMAT = 1  # the layout of the weights file; a file of another layout is refused with a message
# How a feature of the rules is spelled: the rules gave the topic ("rule:ai-misuse"), or their score
# for it, in steps of the topic's threshold ("score:ai-misuse", clipped to -1..3).
RULE_GIVEN = "rule:"
RULE_SCORE = "score:"
TITLE = "t:"  # a word of the headline, besides the same word counted among all the story's words
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

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "about": self.about,
            "topics": {
                slug: {"bias": round(topic.bias, 6), "weights": dict(sorted(topic.weights.items()))}
                for slug, topic in self.topics.items()
            },
        }


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


def story_features(title: str, summary: str, scores: Mapping[str, float], given: Sequence[str]) -> list[str]:
    """The features of one story, from its folded (lower-case) headline and summary and the rules'
    scores (in steps of each topic's threshold) and tags. Training and tagging both use this."""
    title_words = WORDS.findall(title)
    summary_words = WORDS.findall(summary)
    features = [*title_words, *summary_words]
    features += [TITLE + word for word in title_words]
    for words in (title_words, summary_words):
        features += [f"{a} {b}" for a, b in pairwise(words)]
    features += [RULE_GIVEN + slug for slug in given]
    features += [f"{RULE_SCORE}{slug}" for slug in scores]
    return features


def feature_values(features: Sequence[str], scores: Mapping[str, float]) -> dict[str, float]:
    """Each distinct feature with its value: 1 for a word, the clipped score for a rules' score."""
    values = dict.fromkeys(features, 1.0)
    for slug, score in scores.items():
        values[RULE_SCORE + slug] = clip_score(score)
    return values


def clip_score(score: float) -> float:
    return max(-1.0, min(3.0, score))


def decide(model: LearnedModel, features: Sequence[str], scores: Mapping[str, float]) -> dict[str, float]:
    """Each modelled topic's margin (above zero: given), a sparse dot product over ``features``."""
    distinct = set(features)
    margins = {}
    for slug, topic in model.topics.items():
        weights = topic.weights
        margin = topic.bias + sum(filter(None, map(weights.get, distinct)))
        for score_slug, score in scores.items():
            weight = weights.get(RULE_SCORE + score_slug)
            if weight:
                # The score feature is counted once above with the value 1; its real value replaces it.
                margin += weight * (clip_score(score) - 1.0)
        margins[slug] = margin
    return margins


def reasons(model: LearnedModel, slug: str, features: Sequence[str]) -> list[str]:
    """The story's words and word pairs that weighed most for ``slug``, heaviest first, each with its
    weight ("chatbot +1.20"); the rules' own features are left out, they are no words of the story."""
    weights = model.topics[slug].weights
    heaviest = sorted(
        (
            (weights[f], f)
            for f in set(features)
            if f in weights and weights[f] > 0 and not f.startswith((RULE_GIVEN, RULE_SCORE))
        ),
        reverse=True,
    )
    named: list[str] = []
    for weight, feature in heaviest:
        word = feature.removeprefix(TITLE)
        if word in QUIET or any(n.startswith(f"{word} ") for n in named):
            continue
        named.append(f"{word} {weight:+.2f}")
        if len(named) == REASONS:
            break
    return named


def probability(margin: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, margin))))

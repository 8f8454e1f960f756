"""The tagger: story text in, topics out, each with the phrases that caused it. Pure; no I/O.

Scoring: each rule that matches adds its weight, multiplied by the ruleset's title weight when it
matched in the headline alone; each matching negative subtracts its weight. A topic whose score
reaches its threshold is given, together with the topics it implies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from digest.tagging.rules import Rule, Ruleset

# Typographic quotes, hyphens and dashes are folded before matching, so phrases written with plain
# ASCII match text that uses them.
_FOLD = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u2010": "-",
        "\u2011": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u00a0": " ",
        "\u00ad": "",
    }
)


_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Tagging:
    topics: tuple[str, ...]
    why: dict[str, list[str]] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)


def tag_story(ruleset: Ruleset, title: str, summary: str = "", content: str = "") -> Tagging:
    """The topics of one story, each with the phrases that gave it."""
    texts = {"title": title, "summary": summary, "content": content}
    found = {name: ruleset.index.find(fold_text(text)) if text else {} for name, text in texts.items()}

    scores: dict[str, float] = {}
    why: dict[str, list[str]] = {}
    anywhere = set().union(*found.values())
    for topic in ruleset.topics:
        score = 0.0
        if topic.phrase_ids.isdisjoint(anywhere):
            scores[topic.slug] = score
            continue
        reasons: list[str] = []
        for rule in topic.rules:
            hit = _apply(rule, found, anywhere, ruleset.title_weight)
            if hit:
                score += hit[0]
                reasons.extend(w for w in hit[1] if w not in reasons)
        if score > 0:
            for negative in topic.negatives:
                hit = _apply(negative, found, anywhere, 1.0)
                if hit:
                    score -= hit[0]
        scores[topic.slug] = score
        if score >= topic.threshold:
            why[topic.slug] = reasons

    for topic in ruleset.topics:  # implications, after every topic has been scored
        if topic.slug in why:
            for implied in topic.also:
                why.setdefault(implied, list(why[topic.slug]))
    topics = tuple(topic.slug for topic in ruleset.topics if topic.slug in why)
    return Tagging(topics, {slug: why[slug] for slug in topics}, scores)


def _apply(
    rule: Rule, found: dict[str, dict[int, str]], anywhere: set[int], title_weight: float
) -> tuple[float, list[str]] | None:
    """The rule's weight and matched words, or None when it does not match."""
    for group in rule.groups:  # the quick answer for most rules: a group found nowhere at all
        if group.isdisjoint(anywhere):
            return None
    words: list[str] = []
    in_title_only = True
    for group in rule.groups:
        hit = None
        for field_name in rule.fields:
            matched = found[field_name]
            if matched and not group.isdisjoint(matched):
                hit = matched[min(group.intersection(matched))]
                if field_name != "title":
                    in_title_only = False
                break
        if hit is None:
            return None
        words.append(hit)
    weight = rule.weight * (title_weight if in_title_only and "title" in rule.fields else 1.0)
    return weight, [_tidy(w) for w in words]


def fold_text(text: str) -> str:
    return text.translate(_FOLD).lower()


def _tidy(words: str) -> str:
    return _SPACES.sub(" ", words) if " " in words or "\n" in words or "\t" in words else words

"""The tagger: story text in, topics out, each with the phrases that caused it. Pure; no I/O.

Scoring: each rule that matches adds its weight, multiplied by the ruleset's title weight when it
matched in the headline alone; each matching negative subtracts its weight. A topic whose score
reaches its threshold is given, together with the topics it implies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from digest.tagging.rules import Rule, Ruleset, text_keys

# Typographic quotes, hyphens and dashes are folded before matching, so phrases written with plain
# ASCII match text that uses them.
_FOLD = str.maketrans({"\u2019": "'", "\u2018": "'", "\u2010": "-", "\u2011": "-", "\u2013": "-", "\u2014": "-",
                       "\u00a0": " ", "\u00ad": ""})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Tagging:
    topics: tuple[str, ...]
    why: dict[str, list[str]] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)


def find_phrases(ruleset: Ruleset, text: str) -> dict[int, str]:
    """Phrase id -> the words matched, for every phrase of the ruleset found in ``text`` (folded)."""
    found: dict[int, str] = {}
    by_key = ruleset.by_key
    for key in text_keys(text) & by_key.keys():
        for phrase in by_key[key]:
            if phrase.id not in found and (match := phrase.pattern.search(text)):
                found[phrase.id] = match.group(0)
    for phrase in ruleset.unkeyed:
        if match := phrase.pattern.search(text):
            found[phrase.id] = match.group(0)
    return found


def tag_story(ruleset: Ruleset, title: str, summary: str = "", content: str = "") -> Tagging:
    """The topics of one story, each with the phrases that gave it."""
    texts = {"title": title, "summary": summary, "content": content}
    found = {name: find_phrases(ruleset, _fold(text)) if text else {} for name, text in texts.items()}

    scores: dict[str, float] = {}
    why: dict[str, list[str]] = {}
    for topic in ruleset.topics:
        score = 0.0
        reasons: list[str] = []
        for rule in topic.rules:
            hit = _apply(rule, found, ruleset.title_weight)
            if hit:
                score += hit[0]
                reasons.extend(w for w in hit[1] if w not in reasons)
        if score > 0:
            for negative in topic.negatives:
                hit = _apply(negative, found, 1.0)
                if hit:
                    score -= hit[0]
        scores[topic.slug] = score
        if score >= topic.threshold:
            why[topic.slug] = reasons

    for topic in ruleset.topics:  # implications, after every topic has been scored
        if topic.slug in why:
            for implied in topic.also:
                why.setdefault(implied, list(why[topic.slug]))
    topics = tuple(slug for slug in ruleset.slugs if slug in why)
    return Tagging(topics, {slug: why[slug] for slug in topics}, scores)


def _apply(rule: Rule, found: dict[str, dict[int, str]], title_weight: float) -> tuple[float, list[str]] | None:
    """The rule's weight and matched words, or None when it does not match."""
    words: list[str] = []
    in_title_only = True
    for group in rule.groups:
        hit = None
        for field_name in rule.fields:
            ids = group & found[field_name].keys()
            if ids:
                hit = found[field_name][min(ids)]
                if field_name != "title":
                    in_title_only = False
                break
        if hit is None:
            return None
        words.append(hit)
    weight = rule.weight * (title_weight if in_title_only and "title" in rule.fields else 1.0)
    return weight, [_tidy(w) for w in words]


def _fold(text: str) -> str:
    return text.translate(_FOLD).lower()


def _tidy(words: str) -> str:
    return re.sub(r"\s+", " ", words)

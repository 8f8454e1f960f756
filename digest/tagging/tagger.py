"""The tagger: story text in, topics out, each with the phrases that caused it. Pure; no I/O.

Scoring: each rule that matches adds its weight, multiplied by the ruleset's title weight when it
matched in the headline alone; each matching negative subtracts its weight. A topic whose score
reaches its threshold is given, together with the topics it implies. When the ruleset carries a
learned layer (digest.tagging.learned), it has the last word on the topics it models, weighing the
story's words against what the rules said.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from digest.tagging import learned
from digest.tagging.phrases import WORDS
from digest.tagging.rules import Rule, Ruleset

# Typographic quotes, hyphens and dashes are folded before matching, so phrases written with plain
# ASCII match text that uses them.
TYPOGRAPHIC = {
    "\u2019": "'",
    "\u2018": "'",
    "\u2010": "-",
    "\u2011": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u00a0": " ",
    "\u00ad": "",
}


@dataclass(frozen=True, slots=True)
class Tagging:
    topics: tuple[str, ...]
    why: dict[str, list[str]] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)


def tag_story(ruleset: Ruleset, title: str, summary: str = "", content: str = "") -> Tagging:
    """The topics of one story, each with the phrases that gave it."""
    index, groups_of, read = ruleset.index, ruleset.groups_of, ruleset.fields_read
    found: dict[str, dict[int, str]] = {}
    # Per field, each group with a phrase there -> its lowest phrase id there, the one that names it.
    firsts: dict[str, dict[int, int]] = {}
    present: set[int] = set()  # the groups with a phrase in some field
    model = ruleset.learned
    story_words: set[str] = set()  # the headline's and summary's words, for the learned layer
    for name, text in (("title", title), ("summary", summary), ("content", content)):
        folded, tokens = "", None
        if model is not None and text and name != "content":
            folded = fold_text(text)
            tokens = WORDS.findall(folded)  # found once, for the index and the learned layer
            story_words.update(tokens)
        if text and name in read:
            matched = found[name] = index.find(folded if tokens is not None else fold_text(text), tokens)
            # From the highest id down, so that the lowest is the one left.
            first = firsts[name] = {number: i for i in sorted(matched, reverse=True) for number in groups_of[i]}
            present.update(first)
        else:
            found[name], firsts[name] = {}, {}

    scores: dict[str, float] = {}
    why: dict[str, list[str]] = {}
    title_weight = ruleset.title_weight
    for topic in ruleset.topics:
        if topic.group_numbers.isdisjoint(present):
            scores[topic.slug] = 0.0  # none of its phrases anywhere: not given, whatever the threshold
            continue
        score = 0.0
        reasons: list[str] = []
        for rule in topic.rules:
            if rule.group_set <= present and (hit := _apply(rule, found, firsts, title_weight)):
                score += hit[0]
                for words in hit[1]:
                    if words not in reasons:
                        reasons.append(words)
        if score > 0:
            for negative in topic.negatives:
                if negative.group_set <= present and (hit := _apply(negative, found, firsts, 1.0)):
                    score -= hit[0]
        scores[topic.slug] = score
        if score >= topic.threshold:
            why[topic.slug] = reasons

    if why:
        _imply(ruleset, why)
    if model is not None:
        why = _learn(ruleset, model, story_words, scores, why)
    if not why:
        return Tagging((), {}, scores)
    topics = tuple(topic.slug for topic in ruleset.topics if topic.slug in why)
    return Tagging(topics, {slug: why[slug] for slug in topics}, scores)


def _imply(ruleset: Ruleset, why: dict[str, list[str]]) -> None:
    for topic in ruleset.topics:  # after every topic has been decided
        if topic.slug in why:
            for implied in topic.also:
                why.setdefault(implied, list(why[topic.slug]))


def _learn(
    ruleset: Ruleset, model: learned.LearnedModel, words: set[str], scores: dict[str, float], why: dict[str, list[str]]
) -> dict[str, list[str]]:
    """The learned layer's verdict on the topics it models; the rules' on the others. A tag the rules
    gave too keeps their phrases as its why; one only the model gave names its heaviest words."""
    margins = learned.decide(model, words, rule_features(ruleset, scores, why))
    decided = {slug: phrases for slug, phrases in why.items() if slug not in margins}
    for slug, margin in margins.items():
        if margin > 0:
            decided[slug] = why[slug] if slug in why else learned.reasons(model, slug, words)
    if decided:
        _imply(ruleset, decided)
    return decided


def _apply(
    rule: Rule, found: dict[str, dict[int, str]], firsts: dict[str, dict[int, int]], title_weight: float
) -> tuple[float, list[str]] | None:
    """The rule's weight and matched words, or None when it does not match: each group is named by
    its lowest phrase id in the first of the rule's fields that has one."""
    words: list[str] = []
    in_title_only = True
    fields = rule.fields
    for number in rule.group_numbers:
        for field_name in fields:
            phrase_id = firsts[field_name].get(number)
            if phrase_id is not None:
                words.append(found[field_name][phrase_id])
                if field_name != "title":
                    in_title_only = False
                break
        else:
            return None
    if in_title_only and "title" in fields:
        return rule.weight * title_weight, words
    return rule.weight, words


def rule_features(ruleset: Ruleset, scores: dict[str, float], given: Iterable[str]) -> dict[str, float]:
    """What the rules said, as the learned layer's features (see learned.rule_features): their
    scores in steps of each topic's threshold, and the topics they gave."""
    steps = {t.slug: scores[t.slug] / t.threshold if t.threshold > 0 else scores[t.slug] for t in ruleset.topics}
    return learned.rule_features(steps, given)


def fold_text(text: str) -> str:
    if not text.isascii():  # most text is, and has nothing to fold but case
        # One replace per character found: far faster than str.translate, which looks up every one.
        for typographic, plain in TYPOGRAPHIC.items():
            if typographic in text:
                text = text.replace(typographic, plain)
    return text.lower()

"""A slow, plain reference tagger: what digest.tagging must answer, phrase by phrase.

It reads the same compiled ruleset (topics, rules, groups of phrase ids, weights) but finds phrases
the simple way, each by a regular expression (its own from ``compile_phrase``, or for one word, the
whole words of the text it matches) behind the word and prefix conditions the tagger has always
applied, and scores every rule of every topic with no shortcut. The tagger must give exactly its
topics, reasons and scores.

Every phrase's reason is its first match in the text: where a story has several words a one-word
phrase matches ("scam" and "scams", "clone" and "cloning"), the first of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from digest.tagging.phrases import WORDS, compile_phrase
from digest.tagging.rules import Rule, Ruleset
from digest.tagging.tagger import TYPOGRAPHIC, Tagging

_SPACES = re.compile(r"\s+")
_FOLD = str.maketrans(TYPOGRAPHIC)


def fold_text(text: str) -> str:
    return text.translate(_FOLD).lower()


@dataclass(frozen=True, slots=True)
class ReferencePhrase:
    id: int
    pattern: re.Pattern[str]
    # Words the text must contain and first three letters some of its words must have for the
    # phrase to be tried at all, as the tagger has always required.
    required: frozenset[str]
    prefixes: frozenset[str]
    any_of: frozenset[str] = frozenset()  # a one-word phrase: the text must have one of these words


def reference_phrases(ruleset: Ruleset) -> list[ReferencePhrase]:
    phrases = []
    for phrase in ruleset.phrases:
        pattern, key, required, prefixes = compile_phrase(phrase.text)
        word = phrase.text.strip().lower()
        any_of: frozenset[str] = frozenset()
        if key is not None and re.fullmatch(r"\w+\*?", word):
            # One word is matched as a whole word of the text: "scam*" names the word that starts
            # with "scam" ("scammers'" names "scammers"), "image" names "image" or "images".
            if word.endswith("*"):
                pattern = re.compile(rf"(?<!\w){re.escape(word[:-1])}\w*")
                prefixes = frozenset({key})
            else:
                forms = [word, word + "s", word + "es"] if word[-1].isalpha() else [word]
                pattern = re.compile(rf"(?<!\w)(?:{'|'.join(map(re.escape, forms))})(?!\w)")
                required, prefixes, any_of = frozenset(), frozenset(), frozenset(forms)
        elif key is None:
            required, prefixes = frozenset(), frozenset()
        phrases.append(ReferencePhrase(phrase.id, pattern, required, prefixes, any_of))
    return phrases


def find_phrases(phrases: list[ReferencePhrase], text: str) -> dict[int, str]:
    """Phrase id -> the words matched, trying every phrase of the ruleset on ``text`` (folded): the
    first match in the text."""
    words = set(WORDS.findall(text))
    starts = {word[:3] for word in words}
    found = {}
    for phrase in phrases:
        if phrase.any_of and phrase.any_of.isdisjoint(words):
            continue
        if phrase.required <= words and phrase.prefixes <= starts and (match := phrase.pattern.search(text)):
            found[phrase.id] = match.group(0)
    return found


def reference_tag(
    ruleset: Ruleset, phrases: list[ReferencePhrase], title: str, summary: str = "", content: str = ""
) -> Tagging:
    texts = {"title": title, "summary": summary, "content": content}
    found = {name: find_phrases(phrases, fold_text(text)) if text else {} for name, text in texts.items()}
    anywhere = {phrase_id for matched in found.values() for phrase_id in matched}
    scores: dict[str, float] = {}
    why: dict[str, list[str]] = {}
    for topic in ruleset.topics:
        score = 0.0
        if anywhere.isdisjoint(i for rule in (*topic.rules, *topic.negatives) for group in rule.groups for i in group):
            # None of the topic's phrases in any field, read or not: not given, whatever its threshold.
            scores[topic.slug] = score
            continue
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
    for topic in ruleset.topics:
        if topic.slug in why:
            for implied in topic.also:
                why.setdefault(implied, list(why[topic.slug]))
    topics = tuple(topic.slug for topic in ruleset.topics if topic.slug in why)
    return Tagging(topics, {slug: why[slug] for slug in topics}, scores)


def _apply(rule: Rule, found: dict[str, dict[int, str]], title_weight: float) -> tuple[float, list[str]] | None:
    """A rule matches when each group has a phrase in one of its fields: the first field in the
    rule's order that has one names it, by the group's lowest phrase id found there."""
    words = []
    in_title_only = True
    for group in rule.groups:
        hit = None
        for field_name in rule.fields:
            ids = group & found[field_name].keys()
            if ids:
                hit = found[field_name][min(ids)]
                in_title_only = in_title_only and field_name == "title"
                break
        if hit is None:
            return None
        # Runs of spaces, tabs and newlines in a matched phrase read as one space.
        words.append(_SPACES.sub(" ", hit) if " " in hit or "\n" in hit or "\t" in hit else hit)
    weight = rule.weight * (title_weight if in_title_only and "title" in rule.fields else 1.0)
    return weight, words

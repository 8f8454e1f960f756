"""Finding which of a ruleset's phrases occur in a text, without trying most of them.

Tagging must keep up with ingestion (tens of thousands of stories a second), and a ruleset has
hundreds of phrases. Most are never tried as regular expressions:
- a phrase of one plain word is a set lookup among the text's words (with its plural forms);
- a one-word phrase ending in "*" is looked up by its first three letters, then compared as a prefix;
- any other phrase is tried only when the text contains its rarest whole word (or, having none, the
  first three letters of its first word), and all its other whole words;
- raw "re:" expressions are tried only when one expression made of all of them finds something.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

WORDS = re.compile(r"\w+")  # words as the regular expressions' \w boundaries see them


@dataclass(frozen=True, slots=True)
class Phrase:
    id: int
    text: str  # as the editor wrote it
    pattern: re.Pattern[str]
    key: str | None  # first three letters of the first word; None for raw expressions
    required: frozenset[str] = frozenset()  # whole words the text must contain
    prefixes: frozenset[str] = frozenset()  # first three letters of words that may end differently
    forms: frozenset[str] = frozenset()  # a one-word phrase: the words it matches
    stem: str | None = None  # a one-word phrase ending in "*": the start it matches


class PhraseIndex:
    def __init__(self, phrases: Sequence[Phrase]) -> None:
        self.by_form: dict[str, list[Phrase]] = {}
        self.by_stem_key: dict[str, list[Phrase]] = {}
        self.by_word: dict[str, list[Phrase]] = {}
        self.by_prefix: dict[str, list[Phrase]] = {}
        self.raw = [p for p in phrases if p.key is None]
        self.raw_any = re.compile("|".join(f"(?:{p.pattern.pattern})" for p in self.raw), re.I) if self.raw else None
        frequency = Counter(word for p in phrases for word in p.required)
        for phrase in phrases:
            if phrase.forms:
                for form in phrase.forms:
                    self.by_form.setdefault(form, []).append(phrase)
            elif phrase.stem is not None and phrase.key is not None:
                self.by_stem_key.setdefault(phrase.key, []).append(phrase)
            elif phrase.required:
                rarest = min(sorted(phrase.required), key=frequency.__getitem__)
                self.by_word.setdefault(rarest, []).append(phrase)
            elif phrase.key is not None:
                self.by_prefix.setdefault(phrase.key, []).append(phrase)

    def find(self, text: str) -> dict[int, str]:
        """Phrase id -> the words matched, for every phrase found in ``text`` (folded, lower case)."""
        found: dict[int, str] = {}
        # In the text's order, so that a phrase several words match is named by the first of them.
        ordered = list(dict.fromkeys(WORDS.findall(text)))
        words = set(ordered)
        by_start: dict[str, list[str]] = {}
        for word in ordered:
            start = word[:3]
            if start in by_start:
                by_start[start].append(word)
            else:
                by_start[start] = [word]
        keys = by_start.keys()
        by_form = self.by_form
        for word in ordered:
            for phrase in by_form.get(word, ()):
                found.setdefault(phrase.id, word)
        by_stem_key = self.by_stem_key
        for key in keys & by_stem_key.keys():
            starting = by_start[key]
            for phrase in by_stem_key[key]:
                stem = phrase.stem or ""
                for word in starting:
                    if word.startswith(stem):
                        found[phrase.id] = word
                        break
        by_word = self.by_word
        for word in words & by_word.keys():
            for phrase in by_word[word]:
                if phrase.required <= words and phrase.prefixes <= keys and (match := phrase.pattern.search(text)):
                    found[phrase.id] = match.group(0)
        by_prefix = self.by_prefix
        for key in keys & by_prefix.keys():
            for phrase in by_prefix[key]:
                if phrase.required <= words and phrase.prefixes <= keys and (match := phrase.pattern.search(text)):
                    found[phrase.id] = match.group(0)
        if self.raw_any is not None and self.raw_any.search(text):
            for phrase in self.raw:
                if match := phrase.pattern.search(text):
                    found[phrase.id] = match.group(0)
        return found

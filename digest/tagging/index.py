"""Finding which of a ruleset's phrases occur in a text, without trying most of them.

Tagging must keep up with ingestion (tens of thousands of stories a second, keyword-dense ones
included), and a ruleset has hundreds of phrases. What each word of a text brings is worked out
once per distinct word and remembered, so a text costs one pass over its words:
- a phrase of one plain word matches the word itself or its plural; a one-word phrase ending in "*"
  matches the words starting with it: both are answered from the word alone, never by a regular
  expression;
- any other phrase is a candidate when the text has the pair of neighbouring words it is looked up
  by (or, having none, its rarest whole word or word start), and is tried only when the text also
  has all its whole words, word starts and neighbouring words;
- a raw "re:" expression is tried only when the text has the plain characters every match of it has
  ("fine" for "fine[sd]?" between word boundaries).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from itertools import pairwise
from operator import itemgetter
from typing import cast

from digest.tagging.phrases import WORDS, Phrase

# How many distinct words the index remembers before it starts afresh (a few megabytes).
WORD_MEMORY = 100_000

# What one word of a text brings: the one-word phrases it matches (phrase id -> the word), and the
# longer phrases it makes worth trying (phrase id -> phrase); or, for most words, nothing: an empty
# tuple, which filter() drops before any Python code sees it.
_Brings = tuple[dict[int, str], dict[int, Phrase]]
_Word = _Brings | tuple[()]
_NOTHING: _Word = ()
_START = itemgetter(slice(3))  # a word's first three letters, as map() can take them
_SPACES = re.compile(r"\s+")
_UNTIDY = re.compile(r"\s\s|[^\S ]")  # what _SPACES would change: a run, or a space that is not " "
# The letters re's case-insensitive matching takes for an ASCII one (i, s) that stay themselves when
# lower-cased: a text with them may match a raw expression without containing its plain letters.
_ODD_CASES = ("\u0131", "\u017f")  # dotless i, long s


class PhraseIndex:
    def __init__(self, phrases: Sequence[Phrase]) -> None:
        self.by_form: dict[str, list[int]] = {}
        self.stems_by_key: dict[str, list[tuple[str, int]]] = {}
        self.by_pair: dict[tuple[str, str], dict[int, Phrase]] = {}
        self.by_word: dict[str, list[Phrase]] = {}
        self.by_prefix: dict[str, list[Phrase]] = {}
        self.raw = [p for p in phrases if p.key is None]
        # A longer phrase is looked up by the condition fewest other phrases share: a pair of
        # neighbouring words where it has one; else one of its whole words or the start of a word that
        # may end differently (counted double: many words share a start), avoiding words of one or two
        # letters ("s", "of"), which most texts have.
        frequency = Counter(word for p in phrases for word in (*p.required, *p.pairs))
        for phrase in phrases:
            for start in phrase.prefixes:
                frequency[f"{start}*"] += 2
        for phrase in phrases:
            if phrase.forms:
                for form in phrase.forms:
                    self.by_form.setdefault(form, []).append(phrase.id)
            elif phrase.stem is not None and phrase.key is not None:
                self.stems_by_key.setdefault(phrase.key, []).append((phrase.stem, phrase.id))
            elif phrase.pairs:
                pair = min(sorted(phrase.pairs), key=frequency.__getitem__)
                # Its pairs already say the text has their first words and the starts of the next
                # ones, and the pair it is found by is in the text: only the conditions they leave
                # out are checked again (none, for most phrases of two words).
                lean = replace(
                    phrase,
                    required=phrase.required - {first for first, _ in phrase.pairs},
                    prefixes=phrase.prefixes - {start for _, start in phrase.pairs},
                    pairs=phrase.pairs - {pair},
                )
                self.by_pair.setdefault(pair, {})[phrase.id] = lean
            elif phrase.required or phrase.prefixes:
                conditions = sorted(phrase.required) + sorted(f"{start}*" for start in phrase.prefixes)
                rarest = min(conditions, key=lambda c: (len(c.rstrip("*")) < 3, frequency[c]))
                # The word (or start) it is found by is in the text: not checked again.
                if rarest.endswith("*"):
                    lean = replace(phrase, prefixes=phrase.prefixes - {rarest[:-1]})
                    self.by_prefix.setdefault(rarest[:-1], []).append(lean)
                else:
                    lean = replace(phrase, required=phrase.required - {rarest})
                    self.by_word.setdefault(rarest, []).append(lean)
        # The words some phrase needs a certain word after: the only pairs of a text worth keeping.
        self.starters = frozenset(first for p in phrases for first, _ in p.pairs)
        self._words: dict[str, _Word] = {}

    def find(self, text: str, tokens: list[str] | None = None) -> dict[int, str]:
        """Phrase id -> the words matched, for every phrase found in ``text`` (folded, lower case).
        ``tokens``: the text's words (``WORDS.findall(text)``), when the caller has them already.

        Each phrase is named by its first match in the text, with runs of spaces read as one."""
        found: dict[int, str] = {}
        candidates: dict[int, Phrase] = {}
        if tokens is None:
            tokens = WORDS.findall(text)
        memory = self._words
        # Each word once, from the last: an earlier word's phrases replace a later one's. Looked up
        # without a Python loop while every word is remembered, as nearly all are.
        distinct = reversed(dict.fromkeys(tokens))
        try:
            remembered = list(filter(None, map(memory.__getitem__, distinct)))
        except KeyError:
            remembered = [entry for word in reversed(dict.fromkeys(tokens)) if (entry := self._recall(word))]
        entries = cast(list[_Brings], remembered)  # the empty ones are filtered out
        for direct, more in entries:
            found.update(direct)
            candidates.update(more)
        starters = self.starters
        pairs = {(word, after[:3]) for word, after in pairwise(tokens) if word in starters}
        by_pair = self.by_pair
        for pair in pairs & by_pair.keys():
            candidates.update(by_pair[pair])
        # Whether a match may need tidying: asked once of the whole text, at its first match of a
        # longer phrase, rather than of every match.
        tidy: bool | None = None
        if candidates:
            words: set[str] | None = None
            starts: set[str] | None = None
            for phrase in candidates.values():
                if not phrase.pairs <= pairs:
                    continue
                if phrase.required:
                    if words is None:
                        words = set(tokens)
                    if not phrase.required <= words:
                        continue
                if phrase.prefixes:
                    if starts is None:
                        starts = set(map(_START, tokens))
                    if not phrase.prefixes <= starts:
                        continue
                if match := phrase.pattern.search(text):
                    if tidy is None:
                        # What _UNTIDY finds, without a regular expression: every space but " " is
                        # unprintable.
                        tidy = text.isprintable() and "  " not in text
                    found[phrase.id] = match.group(0) if tidy else _tidy(match.group(0))
        if self.raw:
            plain = text.isascii() or not any(odd in text for odd in _ODD_CASES)
            for phrase in self.raw:
                if plain and phrase.literal is not None and phrase.literal not in text:
                    continue
                if match := phrase.pattern.search(text):
                    found[phrase.id] = _tidy(match.group(0))
        return found

    def _recall(self, word: str) -> _Word:
        entry = self._words.get(word)
        return self._learn(word) if entry is None else entry

    def _learn(self, word: str) -> _Word:
        """What ``word`` brings, worked out once and remembered."""
        start = word[:3]
        direct = dict.fromkeys(self.by_form.get(word, ()), word)
        for stem, phrase_id in self.stems_by_key.get(start, ()):
            if word.startswith(stem):
                direct[phrase_id] = word
        candidates = {p.id: p for p in (*self.by_word.get(word, ()), *self.by_prefix.get(start, ()))}
        entry = (direct, candidates) if direct or candidates else _NOTHING
        if len(self._words) >= WORD_MEMORY:
            self._words.clear()
        self._words[word] = entry
        return entry


def _tidy(words: str) -> str:
    # A phrase matched across a line break or a run of spaces is named with one space. (Matches with
    # nothing but single spaces, most of them, are left as they are without rewriting them.)
    if (" " in words or "\n" in words or "\t" in words) and _UNTIDY.search(words):
        return _SPACES.sub(" ", words)
    return words

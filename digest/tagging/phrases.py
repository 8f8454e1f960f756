"""One phrase of the topic rules: its regular expression, and what a text must have for it to match.

Phrase syntax, for editors: case does not matter; words separated by spaces or hyphens match either
("deep fake" matches "deep-fake"); a final ``*`` matches any ending ("clon*": clone, cloned, cloning);
a plain last word also matches its plural ("image" matches "images"); ``re:`` starts a raw regular
expression.

Besides its expression, a phrase carries conditions on the text's words that hold wherever it
matches (whole words, word starts, neighbouring words), so the index (index.py) tries it only on
texts that meet them; and a one-word phrase is answered from the words alone.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import pairwise
from typing import Any

WORDS = re.compile(r"\w+")  # words as the regular expressions' \w boundaries see them
_WORD_SPLIT = re.compile(r"[\s\-]+")
# Between words: spaces, hyphens or quotes ("AI-generated 'nudes'").
_BETWEEN = r"[\s\-'\"]+"


class Pattern:
    """A phrase's regular expression, sent to the poll's parser workers as its text and compiled
    there when first tried. A ruleset has a thousand or more of them and a worker tries about a
    quarter (the rest are one-word phrases, answered without one, or never candidates in its
    feeds); compiling them all when the rules arrive cost each worker a tenth of a second."""

    __slots__ = ("_compiled", "flags", "search", "source")

    def __init__(self, source: str, flags: int = 0, compiled: re.Pattern[str] | None = None) -> None:
        self.source, self.flags = source, flags
        self._compiled = compiled
        # Once compiled, ``search`` is the compiled expression's own: tagging calls it for every
        # candidate phrase, where a method of this class in between would cost a tenth of the time.
        self.search: Callable[[str], re.Match[str] | None] = compiled.search if compiled else self._first_search

    def _first_search(self, text: str) -> re.Match[str] | None:
        self.search = self.compiled.search
        return self.search(text)

    @property
    def is_compiled(self) -> bool:
        return self._compiled is not None

    @property
    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.source, self.flags)
        return self._compiled

    def __reduce__(self) -> tuple[type[Pattern], tuple[str, int]]:
        return Pattern, (self.source, self.flags)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pattern) and (self.source, self.flags) == (other.source, other.flags)

    def __hash__(self) -> int:
        return hash((self.source, self.flags))

    def __repr__(self) -> str:
        return f"Pattern({self.source!r}, {self.flags})"


def _pattern(source: str, flags: int = 0) -> Pattern:
    """Compiled here, where the rules are read, so that a wrong expression is refused at once."""
    return Pattern(source, flags, re.compile(source, flags))


@dataclass(frozen=True, slots=True)
class Phrase:
    id: int
    text: str  # as the editor wrote it
    pattern: Pattern
    key: str | None  # first three letters of the first word; None for raw expressions
    required: frozenset[str] = frozenset()  # whole words the text must contain
    prefixes: frozenset[str] = frozenset()  # first three letters of words that may end differently
    forms: frozenset[str] = frozenset()  # a one-word phrase: the words it matches
    stem: str | None = None  # a one-word phrase ending in "*": the start it matches
    # A whole word and the first three letters of the next: neighbours in the text wherever it matches.
    pairs: frozenset[tuple[str, str]] = frozenset()
    literal: str | None = None  # a raw expression: what every match contains (see _literal)


@dataclass(frozen=True, slots=True)
class _Compiled:
    pattern: str  # as the editor would read it: word boundaries first
    fast: str  # the same expression beginning with its first word, which re finds far faster
    key: str | None
    required: frozenset[str]
    prefixes: frozenset[str]
    pairs: frozenset[tuple[str, str]]


def compile_phrase(text: str) -> tuple[re.Pattern[str], str | None, frozenset[str], frozenset[str]]:
    """The regular expression and prefilter of one phrase; raises ValueError when it is wrong."""
    if text.startswith("re:"):
        return _raw(text).compiled, None, frozenset(), frozenset()
    compiled = _compile(text)
    return re.compile(compiled.pattern), compiled.key, compiled.required, compiled.prefixes


def make_phrase(id: int, text: str) -> Phrase:
    """The phrase as the index uses it; raises ValueError when it is wrong."""
    return replace(_made(text), id=id)


@lru_cache(maxsize=8192)
def _made(text: str) -> Phrase:
    # Compiling a ruleset is mostly compiling its phrases' expressions: remembered per phrase, a
    # ruleset changed by one phrase (a proposal from editors' corrections) compiles in milliseconds.
    id = -1
    if text.startswith("re:"):
        return Phrase(id, text, _raw(text), None, literal=_literal(text[3:]))
    compiled = _compile(text)
    pattern, key = _pattern(compiled.fast), compiled.key
    word = text.strip().lower()
    if key is None or not re.fullmatch(r"\w+\*?", word):
        return Phrase(id, text, pattern, key, compiled.required, compiled.prefixes, pairs=compiled.pairs)
    if word.endswith("*"):
        return Phrase(id, text, pattern, key, compiled.required, compiled.prefixes, stem=word[:-1])
    forms = {word, word + "s", word + "es"} if word[-1].isalpha() else {word}
    return Phrase(id, text, pattern, key, compiled.required, compiled.prefixes, forms=frozenset(forms))


def _raw(text: str) -> Pattern:
    try:
        return _pattern(text[3:], re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"bad regular expression {text[3:]!r}: {exc}") from None


def _literal(expression: str) -> str | None:
    """The longest run of plain ASCII characters, lower-cased, that every match of a raw expression
    contains in that order: an ASCII text without it cannot match, whatever its case. None when there
    is none of two characters or more."""
    try:
        # re's own parser (a private module): without it every expression is simply tried.
        parser: Any = importlib.import_module("re._parser")
        literal = importlib.import_module("re._constants").LITERAL
        parsed = parser.parse(expression, re.IGNORECASE)
    except (ImportError, AttributeError, re.error):
        return None
    runs, run = [], ""
    for op, value in parsed:  # the expression's top-level sequence: every item is part of each match
        if op is literal and value < 128:
            run += chr(value).lower()
        else:
            runs.append(run)
            run = ""
    longest = max([*runs, run], key=len)
    return longest if len(longest) >= 2 else None


def _compile(text: str) -> _Compiled:
    words = [w for w in _WORD_SPLIT.split(text.strip().lower()) if w]
    if not words:
        raise ValueError("empty phrase")
    parts = []
    required: set[str] = set()
    prefixes: set[str] = set()
    # The phrase's words as the text's words are found (\w+), each with whether the text's word may
    # be longer. Only punctuation and separators come between them, so wherever the phrase matches,
    # a whole word of it is followed among the text's words by a word starting like the next one.
    sequence: list[tuple[str, bool]] = []
    for i, word in enumerate(words):
        wildcard = word.endswith("*")
        stem = word.rstrip("*")
        if "*" in stem:
            raise ValueError(f"'*' may only end a word, in {text!r}")
        letters = WORDS.match(stem)
        if wildcard and i == 0 and (letters is None or len(letters.group(0)) < 3):
            # The prefilter looks phrases up by the first three letters of their first word.
            raise ValueError(f"a first word ending in '*' needs at least three letters before it, in {text!r}")
        part = re.escape(stem)
        tokens = WORDS.findall(stem)
        open_ended = wildcard or (i == len(words) - 1 and stem[-1].isalpha())
        if wildcard:
            part += r"[\w']*"
        elif open_ended:
            part += "(?:s|es)?"
        here = [(token, True) for token in tokens]
        if open_ended and tokens:
            # The text's word only starts with these letters (a longer word, or the plural).
            prefixes.add(tokens[-1][:3])
            here[-1] = (tokens[-1], False)
        elif open_ended:
            here.append(("", False))  # a "*" after punctuation may take in words of the text
        sequence.extend(here)
        parts.append(part)
        required.update(token for token, whole in here if whole)
    # At the ends, word boundaries where the phrase starts or ends with a letter or digit.
    body = _BETWEEN.join(parts)
    end = r"(?![\w])" if re.search(r"[\w*]$", words[-1]) else ""
    pattern = fast = body + end
    if re.match(r"\w", words[0]):
        pattern = r"(?<![\w])" + pattern
        # The same boundary, checked once the first word has matched: an expression that starts
        # with a literal word is searched for by that word, not tried at every position of the text.
        first = re.escape(words[0].rstrip("*"))
        fast = first + rf"(?<![\w]{first})" + fast[len(first) :]
    first_word = WORDS.match(words[0])
    pairs = frozenset(
        (a, b[:3]) for (a, a_whole), (b, b_whole) in pairwise(sequence) if a_whole and (b_whole or len(b) >= 3)
    )
    return _Compiled(
        pattern=pattern,
        fast=fast,
        key=first_word.group(0)[:3] if first_word else None,
        required=frozenset(required),
        prefixes=frozenset(prefixes),
        pairs=pairs,
    )

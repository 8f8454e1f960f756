"""What grouping compares in a story: weighted words, names, numbers, phrases and meaning. Pure; no I/O.

Every feature is taken from the headline and the summary only, because those are what every feed gives;
full article text, where present, varies too much between outlets to help.
"""

from __future__ import annotations

import math
import re
from base64 import b64decode, b64encode
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, pairwise, starmap
from typing import TypeVar

from digest.events.meaning import pieces, vectors

_V = TypeVar("_V")

_FOLD = (("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"'), ("\u2013", "-"), ("\u2014", "-"))
_WORD = re.compile(r"[A-Za-z\u00c0-\u024f][\w'\u00c0-\u024f-]*")
# Starts at a digit, so the engine can skip ahead to the next one; "A380" and "v2" are left out by a
# look back from the first digit (cheaper there than a look-behind tried at every position).
_NUMBER = re.compile(r"(\d(?<![\w.]\d)[\d,]*(?:\.\d+)?)\s*(million|billion|bn|[mk]\b)?", re.IGNORECASE)
_MULTIPLIERS = {"million": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9, "k": 1e3}
# Words that carry no event in them; kept short on purpose: rare words are discounted by IDF anyway.
_STOPWORD_TEXT = """
a about after against all also an and any are as at be been before being but by can could did do
does for from had has have he her his how if in into is it its itself may more most new no not of on
one or our out over says said she so some than that the their them then there these they this those
to two up was we were what when where which who will with would you your us over under amid via per
s t
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass(frozen=True, slots=True)
class StoryFeatures:
    """One story reduced to what grouping compares."""

    words: frozenset[str]
    # Words this story writes only with a capital letter: candidate names.
    names: frozenset[str]
    # Amounts and counts of at least 100 ("380m", "210000"), so "$380M" and "$380 million" agree.
    numbers: frozenset[str]
    # The words in reading order, for the phrases two reports share (see shared_phrases): only the
    # reasons of a decision need those, so they are not made for every story.
    sequence: tuple[str, ...]
    # What the story is about, as a unit vector (events.meaning), in stored form: reports that share
    # few words but say the same thing come out alike.
    meaning: bytes = b""


class _TokenCache(dict[str, _V]):
    """What grouping makes of each raw token, worked out once: news reuses a small vocabulary, so
    nearly every token is a dictionary look-up (cheaper through ``map`` than an lru_cache's call).
    Emptied when it grows past ``limit``, so an unusual stream cannot make it grow without end."""

    def __init__(self, make: Callable[[str], _V], limit: int = 1 << 17) -> None:
        super().__init__()
        self.make, self.limit = make, limit

    def __missing__(self, raw: str) -> _V:
        if len(self) >= self.limit:
            self.clear()
        value = self[raw] = self.make(raw)
        return value


def _compare(raw: str) -> str:
    """A token as compared (folded, stemmed), or "" for a stopword."""
    low = stem(raw.strip("'-").lower())
    return "" if low in STOPWORDS else low


_compared = _TokenCache(_compare)
# The same token as a capitalised word or as a lower-case one ("" when it is not), so that a story's
# candidate names come from two look-ups per token instead of a loop in Python.
_capitalised = _TokenCache(lambda raw: _compared[raw] if raw[0].isupper() else "")
_lower = _TokenCache(lambda raw: "" if raw[0].isupper() else _compared[raw])
# The rows of a token's word pieces among the meaning vectors (events.meaning), as written.
_pieces = _TokenCache(pieces)


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    # Plural and possessive endings only: enough for "breaches"/"breach", "Clorox's"/"Clorox".
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith("es") and word[-3] in "sxh":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


# Words written with capitals that name nothing particular: dates, and the acronyms of the field
# itself. A story about "AI" in "August" shares nothing specific with another one.
_NOT_NAMES_TEXT = """
monday tuesday wednesday thursday friday saturday sunday january february march april may june july
august september october november december ai ai-generated gdpr csam ceo cfo cto it u.s u.k us uk eu
european american english internet
"""
NOT_NAMES = frozenset(stem(w) for w in _NOT_NAMES_TEXT.split())


def _numbers(text: str) -> frozenset[str]:
    found = set(starmap(_amount, _NUMBER.findall(text)))
    found.discard("")
    return frozenset(found)


@lru_cache(maxsize=1 << 14)
def _amount(digits: str, unit: str) -> str:
    """A number as compared ("380m" and "380 million": "3.8e+08"), or "" when it is too common to tell
    stories apart."""
    unit = unit.lower()
    try:
        value = float(digits.replace(",", "")) * _MULTIPLIERS.get(unit, 1.0)
    except ValueError:
        return ""
    # Years and small counts ("3 hospitals", "2023") recur across unrelated stories.
    if value < 100 or (1900 <= value <= 2100 and not unit):
        return ""
    return f"{value:.4g}"


def extract_features(title: str, summary: str) -> StoryFeatures:
    """The features of one story's headline and summary."""
    return extract_many([(title, summary)])[0]


def extract_many(stories: Iterable[tuple[str, str]]) -> list[StoryFeatures]:
    """The features of many stories (headline, summary): their meanings are worked out together,
    in a few array operations instead of several per story."""
    parts = [_extract(title, summary) for title, summary in stories]
    meanings = vectors([p[4] for p in parts])
    return [StoryFeatures(p[0], p[1], p[2], p[3], meaning) for p, meaning in zip(parts, meanings, strict=True)]


def _extract(
    title: str, summary: str
) -> tuple[frozenset[str], frozenset[str], frozenset[str], tuple[str, ...], list[int]]:
    """A story's words, names, numbers and sequence, and the rows of its word pieces (events.meaning)."""
    text = title + " " + summary
    if not text.isascii():  # most headlines are plain ASCII: nothing to fold
        # Six replace() scans cost less than one translate() with a table, per character in Python.
        for typographic, plain in _FOLD:
            text = text.replace(typographic, plain)
    # The " . " keeps the headline's last word and the summary's first from making a phrase.
    tokens = _WORD.findall(text[: len(title)] + " . " + text[len(title) + 1 :])
    sequence = tuple(filter(None, map(_compared.__getitem__, tokens)))
    # Which capitalised words are names is decided against the whole window (see grouping), because
    # one headline cannot tell "Hackers" at its start from "Ascot" at its start.
    unique = set(tokens)
    names = set(map(_capitalised.__getitem__, unique))
    names.difference_update(map(_lower.__getitem__, unique))
    names.discard("")
    rows = list(chain.from_iterable(map(_pieces.__getitem__, tokens)))
    return frozenset(sequence), frozenset(names - NOT_NAMES), _numbers(text), sequence, rows


def shared_phrases(a: StoryFeatures, b: StoryFeatures) -> list[str]:
    """The adjacent word pairs two stories share, in alphabetical order."""
    # Pairs of words sort as their joined text would: a space sorts before any character of a word.
    shared = set(pairwise(a.sequence)).intersection(pairwise(b.sequence))
    return [f"{x} {y}" for x, y in sorted(shared)]


_CACHE_FORMAT = "2"


def dump_features(features: StoryFeatures) -> str:
    """The features as one line of text, for keeping them with a grouped story (see load_features)."""
    parts = (" ".join(features.sequence), " ".join(sorted(features.names)), " ".join(sorted(features.numbers)))
    return "\t".join((_CACHE_FORMAT, *parts, b64encode(features.meaning).decode("ascii")))


def load_features(text: str | None) -> StoryFeatures | None:
    """Features kept by dump_features; None when there are none or they were made by another version
    of extract_features (the story's features are then extracted again)."""
    parts = text.split("\t") if text else ()
    if len(parts) != 5 or parts[0] != _CACHE_FORMAT:
        return None
    sequence = tuple(parts[1].split())
    names, numbers = frozenset(parts[2].split()), frozenset(parts[3].split())
    return StoryFeatures(frozenset(sequence), names, numbers, sequence, b64decode(parts[4]))


def idf_weights(document_frequency: Mapping[str, int], documents: int) -> dict[str, float]:
    """Smoothed inverse document frequency of each word."""
    return {word: math.log((1 + documents) / (1 + df)) + 1.0 for word, df in document_frequency.items()}

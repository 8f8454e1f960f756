"""The phrase index's shortcuts never cost a match: raw expressions gated by their plain characters,
words remembered in a bounded memory."""

from __future__ import annotations

import re

import pytest

from bench.tag import dense_stories
from digest.tagging import index
from digest.tagging.phrases import make_phrase
from digest.tagging.rules import Ruleset, compile_rules
from digest.tagging.tagger import tag_story
from tests.tagging.reference import reference_phrases, reference_tag


def fines_rules() -> Ruleset:
    topic = {"slug": "fines", "name": "Fines", "rules": [{"phrases": ["re:\\bfine[sd]?\\b", "re:\\bAI\\s+ACT\\b"]}]}
    return compile_rules({"topics": [topic]})


@pytest.mark.parametrize(
    ("title", "topics"),
    [
        ("Regulator FINES app maker", ("fines",)),
        ("Regulator fines app maker", ("fines",)),
        ("Regulator f\u0131nes app maker", ("fines",)),  # dotless i: re matches it for "i" ignoring case
        ("Council: AI Act guidance", ("fines",)),
        ("Court finds app maker liable", ()),
        ("Refined rules for apps", ()),
    ],
)
def test_raw_expressions_match_whatever_the_case_of_the_text(title: str, topics: tuple[str, ...]) -> None:
    rules = fines_rules()
    assert tag_story(rules, title).topics == topics
    assert tag_story(rules, title) == reference_tag(rules, reference_phrases(rules), title)


def test_only_dotless_i_and_long_s_take_the_place_of_ascii_letters_once_lower_cased() -> None:
    """The raw-expression gate holds for any text: in a lower-cased text, the only characters re's
    case-insensitive matching takes for an ASCII letter or digit are that letter itself and these."""
    lowered = "".join(c for c in map(chr, range(0x110000)) if not 0xD800 <= ord(c) < 0xE000 and c.lower() == c)
    for match in re.finditer(r"[a-z0-9]", lowered, re.IGNORECASE):
        found = match.group(0)
        ascii_equivalents = [c for c in "abcdefghijklmnopqrstuvwxyz0123456789" if re.fullmatch(c, found, re.I)]
        assert all(found == c or found in index._ODD_CASES for c in ascii_equivalents), repr(found)


@pytest.mark.parametrize(
    ("expression", "literal"),
    [
        ("(?<![\\w-])fine[sd]?(?![\\w-])", "fine"),
        ("\\b(?:[5-9]|1[0-7])[- ]years?[- ]olds?\\b", "year"),
        ("\\bAI\\b", "ai"),
        ("(?x) a b c", "abc"),
        ("deep|fake", None),
        ("a{2}bc", "bc"),
        ("(?:deep)fake", "deepfake"),
        ("(deep)?fake", "fake"),
        ("x", None),
    ],
)
def test_a_raw_expression_is_tried_only_when_the_text_has_what_every_match_has(
    expression: str, literal: str | None
) -> None:
    assert make_phrase(0, "re:" + expression).literal == literal


def test_the_word_memory_starts_afresh_when_full_and_answers_stay_the_same(
    ruleset: Ruleset, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index, "WORD_MEMORY", 50)
    phrases = reference_phrases(ruleset)
    for title, summary in dense_stories(ruleset, 200, seed=3):
        assert tag_story(ruleset, title, summary) == reference_tag(ruleset, phrases, title, summary)
    assert len(ruleset.index._words) <= 50

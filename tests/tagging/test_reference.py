"""The tagger gives exactly the reference tagger's topics, reasons and scores.

The reference (tests/tagging/reference.py) tries every phrase of the ruleset the plain way; the
tagger skips almost all of them. Compared on the development set, our labelled cases, the real
captured feeds, keyword-dense stories made from the ruleset's own phrases (the benchmark's corpus),
and any text hypothesis builds from phrase words, separators and punctuation.
"""

from __future__ import annotations

import json
import tomllib
from itertools import cycle
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.tag import dense_stories, real_feed_stories
from digest.tagging.rules import Ruleset, compile_rules
from digest.tagging.tagger import tag_story
from tests.conftest import TOPICS, shared_data
from tests.tagging.reference import ReferencePhrase, reference_phrases, reference_tag

HERE = Path(__file__).parent

Story = tuple[str, str, str]  # title, summary, content


_REFERENCE_PHRASES: dict[int, tuple[Ruleset, list[ReferencePhrase]]] = {}


def differences(ruleset: Ruleset, stories: list[Story]) -> list[str]:
    if id(ruleset) not in _REFERENCE_PHRASES:
        _REFERENCE_PHRASES[id(ruleset)] = (ruleset, reference_phrases(ruleset))
    phrases = _REFERENCE_PHRASES[id(ruleset)][1]
    wrong = []
    for title, summary, content in stories:
        got = tag_story(ruleset, title, summary, content)
        expected = reference_tag(ruleset, phrases, title, summary, content)
        if (got.topics, got.why, got.scores) != (expected.topics, expected.why, expected.scores):
            wrong.append(f"{title!r} / {summary!r}:\n  got      {got}\n  expected {expected}")
    return wrong


def jsonl_stories(path: Path) -> list[Story]:
    items = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [(item["title"], item.get("summary", ""), item.get("content", "")) for item in items]


def test_development_set_is_tagged_as_the_reference_tags_it(ruleset: Ruleset) -> None:
    stories = jsonl_stories(shared_data("tagging-dev.jsonl"))
    assert not differences(ruleset, stories)


@pytest.mark.parametrize("name", sorted(p.name for p in HERE.glob("cases*.jsonl")))
def test_labelled_cases_are_tagged_as_the_reference_tags_them(ruleset: Ruleset, name: str) -> None:
    assert not differences(ruleset, jsonl_stories(HERE / name))


def test_real_feeds_are_tagged_as_the_reference_tags_them(ruleset: Ruleset) -> None:
    stories = [(title, summary, "") for title, summary in real_feed_stories(shared_data("real-feeds"))]
    assert len(stories) > 500
    assert not differences(ruleset, stories)


def test_keyword_dense_stories_are_tagged_as_the_reference_tags_them(ruleset: Ruleset) -> None:
    stories = [(title, summary, "") for title, summary in dense_stories(ruleset, 1500)]
    # Dense text gives most topics most of their reasons: a real comparison, not one of empty answers.
    assert sum(len(tag_story(ruleset, t, s).topics) for t, s, _ in stories) > 1.5 * len(stories)
    assert not differences(ruleset, stories)


def every_field_ruleset() -> Ruleset:
    """The shipped rules, each rule reading its own choice and order of fields, content included."""
    data = tomllib.loads(TOPICS.read_text())
    choices = cycle(
        [["title", "summary", "content"], ["content", "title"], ["summary", "title"], ["title"], ["content"]]
    )
    for topic in data["topics"]:
        for rule in [*topic["rules"], *topic.get("negatives", [])]:
            rule["fields"] = next(choices)
    return compile_rules(data)


def test_every_field_and_field_order_is_read_as_the_reference_reads_it(ruleset: Ruleset) -> None:
    varied = every_field_ruleset()
    texts = [text for pair in dense_stories(ruleset, 900, seed=1) for text in pair]
    stories = [(texts[i], texts[i + 1], texts[i + 2]) for i in range(0, len(texts) - 2, 3)]
    assert not differences(varied, stories)


def test_a_threshold_of_zero_is_met_as_the_reference_meets_it() -> None:
    topic = {
        "slug": "scams",
        "name": "Scams",
        "threshold": 0,
        "rules": [{"all": [["scam*"], ["pension*"]]}],
        "negatives": [{"phrases": ["anti-scam"], "weight": 2}],
    }
    rules = compile_rules({"topics": [topic]})
    stories = [
        ("Scam warning for pensioners", "", ""),
        ("Weather", "", "A scam wave."),  # a phrase only in a field no rule reads
        ("Weather", "Sunny", "Warm"),
        ("Anti-scam hotline for pensioners", "", ""),
    ]
    assert not differences(rules, stories)
    assert tag_story(rules, "Weather", "Sunny").topics == ()


_SEPARATORS = st.sampled_from([" ", "  ", "-", " - ", "'", '"', "\u2019", "\u2014", "\n", "\t", ". ", ", ", "\u00a0"])


@st.composite
def phrase_soup(draw: st.DrawFn, ruleset: Ruleset) -> str:
    """Text made of phrase words, with any ending, joined by any separator: where phrases overlap,
    repeat, nearly match and match across punctuation."""
    words = [w for p in ruleset.phrases if not p.text.startswith("re:") for w in p.text.split()]
    pieces = st.one_of(
        st.sampled_from(words).map(lambda w: w.rstrip("*")),
        st.tuples(st.sampled_from(words), st.sampled_from(["", "s", "es", "'s", "ing", "ed", "'"])).map(
            lambda pair: pair[0].rstrip("*") + pair[1]
        ),
        st.sampled_from(["the", "13-year-old", "aged 12", "fines", "fined", "$", "A.I.", "AI", "x"]),
        st.text(max_size=3),
    )
    parts = draw(st.lists(st.tuples(pieces, _SEPARATORS), max_size=30))
    text = "".join(piece + separator for piece, separator in parts)
    return text.upper() if draw(st.booleans()) and len(text) < 40 else text


@given(st.data())
def test_any_text_of_phrase_words_is_tagged_as_the_reference_tags_it(ruleset: Ruleset, data: st.DataObject) -> None:
    title, summary = data.draw(phrase_soup(ruleset)), data.draw(phrase_soup(ruleset))
    assert not differences(ruleset, [(title, summary, "")])

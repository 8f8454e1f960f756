"""Loading editors' rules: the shipped file, the phrase syntax, and clear errors for every mistake."""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.tagging.phrases import compile_phrase
from digest.tagging.rules import RulesError, compile_rules, load_rules
from digest.tagging.tagger import tag_story
from tests.conftest import TOPICS


def minimal(**topic: Any) -> dict[str, Any]:
    base = {"slug": "scams", "name": "Scams", "rules": [{"name": "words", "phrases": ["scam*"]}]}
    return {"topics": [{**base, **topic}]}


def test_the_shipped_rules_load_with_the_launch_topics() -> None:
    rules = load_rules(TOPICS)
    assert rules.slugs == ("ai-misuse", "child-protection", "deepfakes")
    assert rules.topic("deepfakes").also == ("ai-misuse",)
    assert all(topic.description for topic in rules.topics)


@pytest.mark.parametrize(
    ("phrase", "text", "matches"),
    [
        ("deep fake", "a deep-fake video", True),
        ("deep fake", "a deep fake video", True),
        ("deep fake", "a deepfake video", False),
        ("clon* voice", "cloning voices", True),
        ("clon*", "they cloned it", True),
        ("image", "abuse images", True),
        ("child", "children", False),
        ("ai", "said", False),
        ("ai-generated nude*", "ai-generated 'nudes' of pupils", True),
        ("raises $", "it raises $80m", True),
        ("re:\\bcsa[me]\\b", "csam and csae", True),
    ],
)
def test_phrase_syntax(phrase: str, text: str, matches: bool) -> None:
    pattern, _key, _required, _prefixes = compile_phrase(phrase)
    assert bool(pattern.search(text)) is matches


words = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8), min_size=1, max_size=4)


@given(words, st.sampled_from([" ", "-", " - ", "  "]))
def test_a_phrase_matches_itself_however_its_words_are_joined(parts: list[str], joiner: str) -> None:
    pattern, key, required, prefixes = compile_phrase(" ".join(parts))
    text = f"before {joiner.join(parts)} after"
    assert pattern.search(text)
    assert key == parts[0][:3]
    text_words = set(text.replace("-", " ").split())
    assert required <= text_words
    assert prefixes <= {w[:3] for w in text_words}


@given(st.text(max_size=40))
def test_any_phrase_compiles_or_is_refused_with_a_reason(text: str) -> None:
    try:
        pattern, _key, _required, _prefixes = compile_phrase(text)
    except ValueError as exc:
        assert str(exc)
    else:
        assert isinstance(pattern, re.Pattern)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (minimal(rules=[{"name": "bad", "phrases": ["re:(unclosed"]}]), "topic 'scams', rule 'bad': bad regular"),
        (minimal(also=["nope"]), "topic 'scams': 'also' names unknown topic 'nope'"),
        ({"topics": [minimal()["topics"][0], minimal()["topics"][0]]}, "topic 'scams': duplicate slug"),
        (minimal(rules=[{"name": "combo", "all": ["ai", "crime"]}]), "rule 'combo': unknown group 'ai'"),
        (minimal(rules=[{"name": "w", "phrases": ["x*"]}]), "needs at least three letters"),
        (minimal(rules=[{"name": "w", "phrases": ["scam"], "weight": "high"}]), "'weight' must be a number"),
        (minimal(rules=[{"name": "w", "phrases": ["scam"], "fields": ["body"]}]), "'fields' must list"),
        (minimal(rules=[{"name": "w", "phrases": ["scam"], "colour": "red"}]), "unknown key 'colour'"),
        (minimal(rules=[{"name": "w", "phrases": []}]), "needs a non-empty list of phrases"),
        (minimal(rules=[{"name": "w", "phrases": ["a"], "all": ["b", "c"]}]), "either 'phrases'"),
        (minimal(slug="Bad Slug"), "needs a slug"),
        (minimal(rules=[]), "has no rules"),
        ({"topics": []}, "no [[topics]] defined"),
        ({"topic": []}, "unknown key 'topic'"),
    ],
)
def test_mistakes_are_reported_with_file_topic_and_rule(data: dict[str, Any], message: str) -> None:
    with pytest.raises(RulesError) as info:
        compile_rules(data, "config/topics.toml")
    assert str(info.value).startswith("config/topics.toml: ")
    assert message in str(info.value)


def test_file_problems_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="topics file not found"):
        load_rules(tmp_path / "missing.toml")
    broken = tmp_path / "topics.toml"
    broken.write_text("[[topics]\n")
    with pytest.raises(RulesError, match=f"{broken}: not valid TOML"):
        load_rules(broken)


def test_rules_sent_to_a_parser_worker_tag_alike_and_compile_only_the_phrases_they_try() -> None:
    # The poll sends the rules to each parser worker pickled; compiling every phrase there cost each
    # worker a tenth of a second before its first feed, for the quarter of them it ever tries.
    rules = load_rules(TOPICS)
    sent = pickle.loads(pickle.dumps(rules))
    assert sent.phrases == rules.phrases
    assert not any(p.pattern.is_compiled for p in sent.phrases)
    texts = [
        "Police charged a man over AI-generated child abuse images",
        "A deepfake video of the mayor was shared before the election",
        "The council approved a new budget for road repairs",
    ]
    for text in texts:
        assert tag_story(sent, text) == tag_story(rules, text)
    tried = sum(p.pattern.is_compiled for p in sent.phrases)
    assert 0 < tried < len(sent.phrases) / 2

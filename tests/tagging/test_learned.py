"""The learned layer beside the rules: what it learns from labelled stories and pins, its why, its file."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import tomlkit

from digest.feeds.learning import write_model
from digest.tagging.learned import LearnedError, load_model, model_from_json, trained_beside
from digest.tagging.rules import Ruleset, compile_rules, load_rules
from digest.tagging.tagger import tag_story
from digest.tagging.train import Example, examples_from_pins, train_model
from tests.tagging.examples import EXAMPLES, WEIGHTS, example_lines, shipped_stories, training_stories
from tests.tagging.score import ROOT, labelled_sets

RULES = {
    "topics": [
        {
            "slug": "ai-misuse",
            "name": "AI misuse",
            "rules": [{"all": [["ai", "chatbot*"], ["hack*", "fraud*", "lawsuit*"]]}],
        }
    ]
}

# Attacks on AI companies (not AI misuse, though the rules say so), AI fraud (AI misuse), plain news,
# and harm done by a shop's bot told in plain words (AI misuse, which the rules miss).
EXAMPLES_TEXT = [
    *((f"Hackers breach AI company {name}", "Customer files were stolen.", []) for name in "ABCDEF"),
    *((f"Scammers use AI voices in fraud against {who}", "Victims lost savings.", ["ai-misuse"]) for who in "GHIJKL"),
    *((f"Council approves {thing}", "The vote was close.", []) for thing in ("bus lanes", "a park", "new homes")),
    *(
        (f"Shop's assistant bot promised a discount to {who}", "A court held the shop to it.", ["ai-misuse"])
        for who in ("buyers", "customers", "shoppers", "pensioners")
    ),
]


@pytest.fixture(scope="module")
def rules() -> Ruleset:
    return compile_rules(RULES)


@pytest.fixture(scope="module")
def layered(rules: Ruleset) -> Ruleset:
    examples = [Example(t, s, frozenset(topics)) for t, s, topics in EXAMPLES_TEXT]
    return replace(rules, learned=train_model(rules, examples))


def test_the_layer_vetoes_a_false_alarm_its_examples_taught(rules: Ruleset, layered: Ruleset) -> None:
    story = ("Hackers breach AI company Zeta", "Customer files were stolen.")
    assert tag_story(rules, *story).topics == ("ai-misuse",)
    assert tag_story(layered, *story).topics == ()
    # Where the words agree with the rules, the rules' tag and their phrases stay.
    fraud = tag_story(layered, "Scammers use AI voices in fraud against Zeta", "Victims lost savings.")
    assert fraud.topics == ("ai-misuse",) and fraud.why == {"ai-misuse": ["ai", "fraud"]}


def test_a_tag_only_the_layer_gives_names_the_words_that_weighed_most(rules: Ruleset, layered: Ruleset) -> None:
    story = ("Shop's assistant bot promised a discount to students", "A court held the shop to it.")
    assert tag_story(rules, *story).topics == ()
    tagging = tag_story(layered, *story)
    assert tagging.topics == ("ai-misuse",)
    why = tagging.why["ai-misuse"]
    assert 1 <= len(why) <= 3 and all(reason.startswith("learned: ") for reason in why)
    words = [reason.split()[1] for reason in why]
    assert set(words) <= {"shop", "assistant", "bot", "promised", "discount", "court", "held", "s"}
    assert "the" not in words and "a" not in words
    assert tag_story(layered, "Council approves a stadium", "The vote was close.").topics == ()


def test_a_pin_is_an_example_that_retraining_learns(rules: Ruleset, layered: Ruleset) -> None:
    # AI that stops fraud is defence, not misuse: the rules and the layer both get it wrong at first.
    story = ("Bank's AI stops fraud against pensioners", "Its detection flagged the payments in time.")
    assert tag_story(layered, *story).topics == ("ai-misuse",)
    # Editors remove the topic from three such stories; retrained, the layer leaves a fourth alone.
    pinned = {number: {"ai-misuse": False} for number in range(3)}
    texts = {
        0: ("Bank's AI stops fraud against savers", "Its detection flagged the payments in time."),
        1: ("Insurer's AI stops fraud against customers", "Its detection flagged the claims in time."),
        2: ("Lender's AI stops fraud against students", "Its detection flagged the loans in time."),
    }
    pins = examples_from_pins(rules, pinned, texts)
    assert [dict(p.decided) for p in pins] == [{"ai-misuse": False}] * 3
    examples = [Example(t, s, frozenset(topics)) for t, s, topics in EXAMPLES_TEXT]
    retrained = replace(rules, learned=train_model(rules, [*examples, *pins]))
    assert tag_story(retrained, *story).topics == ()
    assert retrained.learned is not None and retrained.learned.about["pins"] == 3


def test_the_weights_file_round_trips_and_tags_alike(layered: Ruleset, tmp_path: Path) -> None:
    assert layered.learned is not None
    path = tmp_path / "learned.json"
    write_model(layered.learned, path)
    loaded = replace(layered, learned=load_model(path))
    for title, summary, _topics in EXAMPLES_TEXT:
        assert tag_story(loaded, title, summary).topics == tag_story(layered, title, summary).topics


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "learned weights not found (run 'digest retag --learn' to make them)"),
        ("{not json", "learned weights unreadable"),
        ('{"format": 99, "topics": {}}', "not a weights file of format 1"),
        ('{"format": 1, "topics": {"ai-misuse": {"bias": 0}}}', "a topic's weights are malformed"),
    ],
)
def test_a_bad_weights_file_is_refused_in_one_line(tmp_path: Path, text: str | None, message: str) -> None:
    path = tmp_path / "learned.json"
    if text is not None:
        path.write_text(text)
    with pytest.raises(LearnedError) as error:
        load_model(path)
    assert str(error.value).startswith(f"{path}: {message}") and "\n" not in str(error.value)


def test_the_shipped_examples_are_our_own_stories_and_the_weights_were_trained_on_every_set() -> None:
    # After labels change: python -m tests.tagging.examples
    lines = EXAMPLES.read_text(encoding="utf-8").splitlines()
    sets = labelled_sets()
    assert lines == example_lines(shipped_stories(sets))
    # Nothing read from ../shared is copied into the repository: no shared or captured-feed story.
    shared = {s.title for s in training_stories(sets) if "#" in s.id} | {
        s.title for s in sets.get("development set", [])
    }
    assert shared and not shared & {json.loads(line)["title"] for line in lines}
    shipped = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    model = model_from_json(shipped)
    assert model.about["examples"] == len(training_stories(sets)) and model.about["pins"] == 0
    assert set(model.topics) == {"ai-misuse", "child-protection", "deepfakes"}


def test_the_shipped_weights_were_trained_beside_the_shipped_rules() -> None:
    # A change to config/topics.toml that leaves config/learned.json alone fails here: the weights
    # would assume rules that are no longer there (python -m tests.tagging.examples retrains them).
    shipped = load_rules(ROOT / "config" / "topics.toml")
    assert trained_beside(model_from_json(json.loads(WEIGHTS.read_text(encoding="utf-8"))), shipped.fingerprint)


def test_the_rules_fingerprint_follows_what_the_rules_say_not_their_layout(tmp_path: Path) -> None:
    plain, commented = tmp_path / "plain.toml", tmp_path / "commented.toml"
    plain.write_text(tomlkit.dumps(RULES))
    commented.write_text("# our rules\n\n" + tomlkit.dumps(RULES).replace("]\n", "]  # the only rule\n", 1))
    assert load_rules(plain).fingerprint == load_rules(commented).fingerprint
    changed = json.loads(json.dumps(RULES))
    changed["topics"][0]["rules"][0]["all"][1].append("scam*")
    assert compile_rules(changed).fingerprint != load_rules(plain).fingerprint


def test_weights_trained_beside_other_rules_are_told_apart(rules: Ruleset, layered: Ruleset) -> None:
    assert layered.learned is not None and trained_beside(layered.learned, rules.fingerprint)
    changed = json.loads(json.dumps(RULES))
    changed["topics"][0]["rules"][0]["all"][1].append("scam*")
    assert not trained_beside(layered.learned, compile_rules(changed).fingerprint)
    # Weights made before the rules were recorded say nothing, and are taken as they are.
    assert trained_beside(model_from_json({**layered.learned.to_json(), "about": {}}), "0123456789abcdef")

"""Proposals from editors' corrections: applied, they improve the score on stories nobody corrected."""

from __future__ import annotations

from digest.tagging.rules import compile_rules
from digest.tagging.suggest import StoryText, learn_rules, suggest_changes
from digest.tagging.tagger import tag_story

DATA = {
    "topics": [
        {
            "slug": "ai-misuse",
            "name": "AI misuse",
            "rules": [{"all": [["ai", "chatbot*"], ["ransomware", "fraud*", "lawsuit*", "scam*"]]}],
        }
    ]
}
CORRECTED = [
    StoryText(1, "Ransomware gang hits AI chip designer", "Files were posted on a leak site."),
    StoryText(2, "AI start-up hit by ransomware gang", "Its systems are down."),
    StoryText(3, "Scammers use AI voices to commit fraud", "Pensioners lost savings."),
    StoryText(4, "Ransomware gang claims attack on AI lab", "The group says it took research data."),
]
# Stories nobody corrected, with what they should carry.
HELD_OUT = [
    (StoryText(11, "Ransomware gang leaks AI firm's files", "The company is investigating."), set()),
    (StoryText(12, "AI cloud provider says ransomware gang stole customer data", "Services are back."), set()),
    (StoryText(13, "Chatbot maker faces lawsuit over false advice", "A user was harmed."), {"ai-misuse"}),
    (StoryText(14, "Police warn of AI voice scams before holidays", "Callers imitate relatives."), {"ai-misuse"}),
]


def f1(rules: object) -> float:
    tp = fp = fn = 0
    for story, gold in HELD_OUT:
        got = set(tag_story(rules, story.title, story.summary).topics)  # type: ignore[arg-type]
        tp, fp, fn = tp + len(gold & got), fp + len(got - gold), fn + len(gold - got)
    return 2 * tp / (2 * tp + fp + fn)


def test_corrections_improve_the_score_on_stories_nobody_corrected() -> None:
    rules = compile_rules(DATA)
    decisions = {1: {"ai-misuse": False}, 2: {"ai-misuse": False}, 4: {"ai-misuse": False}}
    _data, learned, applied = learn_rules(DATA, rules, decisions, CORRECTED)
    assert applied and applied[0].topic == "ai-misuse"
    assert f1(rules) == 2 * 2 / (2 * 2 + 2)  # both AI-company attacks tagged wrongly
    assert f1(learned) == 1.0
    # The story editors kept keeps its topic.
    assert tag_story(learned, CORRECTED[2].title, CORRECTED[2].summary).topics == ("ai-misuse",)


def test_a_proposal_names_the_stories_it_fixes_and_those_nobody_decided() -> None:
    stories = [*CORRECTED, HELD_OUT[0][0]]
    (best, *_rest) = suggest_changes(
        DATA, compile_rules(DATA), {1: {"ai-misuse": False}, 2: {"ai-misuse": False}}, stories
    )
    assert best.fixes == (1, 2) and best.undoes == ()
    assert set(best.others) <= {4, 11} and 11 in best.others
    assert "ransomware" in best.phrase and best.kind in {"drop", "negative"}


def test_no_corrections_no_proposals() -> None:
    assert suggest_changes(DATA, compile_rules(DATA), {}, CORRECTED) == []

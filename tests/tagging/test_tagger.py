"""The tagger against the topic definitions: labelled stories, hard negatives, explanations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.tagging.rules import Ruleset, compile_rules
from digest.tagging.tagger import tag_story
from tests.conftest import shared_data

HERE = Path(__file__).parent


def labelled(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def micro_f1(ruleset: Ruleset, stories: list[dict[str, object]]) -> tuple[float, list[str]]:
    tp = fp = fn = 0
    misses = []
    for story in stories:
        gold = set(story["topics"])  # type: ignore[arg-type]
        got = set(tag_story(ruleset, str(story["title"]), str(story.get("summary", ""))).topics)
        tp, fp, fn = tp + len(gold & got), fp + len(got - gold), fn + len(gold - got)
        if gold != got:
            misses.append(f"{story['id']}: expected {sorted(gold)}, got {sorted(got)}: {story['title']}")
    return 2 * tp / (2 * tp + fp + fn), misses


def test_development_set_scores_at_least_095(ruleset: Ruleset) -> None:
    score, misses = micro_f1(ruleset, labelled(shared_data("tagging-dev.jsonl")))
    assert score >= 0.95, "\n".join(misses)


@pytest.mark.parametrize("name", sorted(p.name for p in HERE.glob("cases*.jsonl")))
def test_own_labelled_cases_score_at_least_095(ruleset: Ruleset, name: str) -> None:
    score, misses = micro_f1(ruleset, labelled(HERE / name))
    assert score >= 0.95, "\n".join(misses)


@pytest.mark.parametrize(
    "title",
    [
        "AI startup raises $80 million for contract-review assistant",
        "Security vendor's AI triage assistant sorts phishing reports for analysts",
        "Researchers build deep-learning malware classifier",
        "Council loses £1m to fake invoices",
        "Retailer removes fake reviews after investigation",
        "Childcare provider opens three new centres",
        "Deep learning speeds up weather forecasts",
        "Company CEO endorses generative AI tools for staff",
        "Actor plays president in new political drama",
        "Bank trials voiceprint authentication for phone customers",
    ],
)
def test_hard_negatives_get_no_topic(ruleset: Ruleset, title: str) -> None:
    assert tag_story(ruleset, title).topics == ()


def test_why_names_the_phrases_and_deepfakes_imply_ai_misuse(ruleset: Ruleset) -> None:
    tagging = tag_story(ruleset, "Lawmakers ban sexually explicit deepfakes", "Victims can sue creators.")
    assert tagging.topics == ("ai-misuse", "deepfakes")
    assert "deepfakes" in tagging.why["deepfakes"]
    assert tagging.why["ai-misuse"]


def test_a_headline_counts_more_than_the_summary() -> None:
    rules = compile_rules(
        {
            "title_weight": 2.0,
            "threshold": 1.5,
            "topics": [{"slug": "scams", "name": "Scams", "rules": [{"phrases": ["scam*"], "weight": 1.0}]}],
        }
    )
    assert tag_story(rules, "Scam wave hits pensioners").topics == ("scams",)
    assert tag_story(rules, "Pensioners warned", "A scam wave is under way.").topics == ()


def test_negatives_subtract_and_content_is_read_only_when_asked() -> None:
    topic = {
        "slug": "scams",
        "name": "Scams",
        "rules": [{"phrases": ["scam*"]}, {"phrases": ["fraud*"], "fields": ["content"]}],
        "negatives": [{"phrases": ["anti-scam"]}],
    }
    rules = compile_rules({"topics": [topic]})
    assert tag_story(rules, "Bank launches anti-scam hotline").topics == ()
    assert tag_story(rules, "Pensioners warned", "", "Police report a fraud wave.").topics == ("scams",)
    assert tag_story(rules, "Pensioners warned", "Police report a fraud wave.").topics == ()


@given(st.text(max_size=300), st.text(max_size=600))
def test_any_text_gives_known_topics_with_reasons(ruleset: Ruleset, title: str, summary: str) -> None:
    tagging = tag_story(ruleset, title, summary)
    assert set(tagging.topics) <= set(ruleset.slugs)
    assert set(tagging.why) == set(tagging.topics)
    assert all(tagging.why[t] for t in tagging.topics)

"""The light commands' topic names are the rules' own, and a broken rules file is reported as the loader does."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.tagging.rules import RulesError, Ruleset
from digest.tagging.topic_names import TopicName, read_topic_names

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "topics.toml"


def test_the_names_are_those_of_the_compiled_rules(ruleset: Ruleset) -> None:
    names = read_topic_names(SHIPPED)
    assert names == tuple(TopicName(t.slug, t.name, t.description) for t in ruleset.topics)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[topics\n", "not valid TOML"),
        ('[[topics]]\nslug = "Bad Slug"\nname = "Bad"\n', "needs a slug of lower-case letters"),
        ('[[topics]]\nslug = "a"\nname = "A"\n[[topics]]\nslug = "a"\nname = "Again"\n', "has no rules"),
        ("version = 1\n", "no [[topics]] defined"),
    ],
)
def test_a_broken_file_gets_the_loaders_message(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "topics.toml"
    path.write_text(text)
    with pytest.raises(RulesError, match=message.replace("[", r"\[")):
        read_topic_names(path)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="topics file not found"):
        read_topic_names(tmp_path / "nope.toml")

"""Loading and validating the editors' topic rules (config/topics.toml) into a compiled ruleset.

The file defines named phrase groups and, per topic, weighted rules: a rule matches when any of its
phrases occurs, or, for an ``all`` rule, when every one of its groups has a phrase somewhere in the
rule's fields. Negative rules subtract. A topic is given to a story when its score reaches the
threshold; ``also`` names topics a topic implies (every deepfakes story is also AI misuse).

The phrase syntax is in phrases.py. Every mistake is reported at load with the file, the topic and
the rule.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from digest.failures import OperatorError
from digest.tagging.index import PhraseIndex
from digest.tagging.learned import LearnedModel
from digest.tagging.phrases import Phrase, make_phrase
from digest.tagging.topic_names import SLUG

FIELDS = ("title", "summary", "content")


class RulesError(OperatorError):
    """The rules file is missing or wrong; the message names the file, topic and rule."""


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    weight: float
    fields: tuple[str, ...]
    # Each group is a set of phrase ids; the rule matches when every group has a match.
    groups: tuple[frozenset[int], ...]
    # The same groups by number (Ruleset.groups_of gives each phrase's group numbers).
    group_numbers: tuple[int, ...] = ()
    group_set: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Topic:
    slug: str
    name: str
    description: str
    threshold: float
    also: tuple[str, ...]
    rules: tuple[Rule, ...]
    negatives: tuple[Rule, ...]
    phrase_ids: frozenset[int] = frozenset()  # every phrase any of its rules can use
    group_numbers: frozenset[int] = frozenset()  # every group any of its rules uses


@dataclass(frozen=True, slots=True)
class Ruleset:
    topics: tuple[Topic, ...]
    phrases: tuple[Phrase, ...]
    title_weight: float
    source: str
    # The prefilter: phrases by key, and the raw expressions that have no key and are always tried.
    index: PhraseIndex
    # By phrase id, the numbers of the groups (Rule.group_numbers) the phrase is in.
    groups_of: tuple[tuple[int, ...], ...] = ()
    fields_read: frozenset[str] = frozenset(FIELDS)  # the fields some rule reads
    # The learned layer beside the rules (digest.tagging.learned), when one is loaded.
    learned: LearnedModel | None = None
    # Whether a rule reads a story's full content: worked out once, because a poll asks per story.
    uses_content: bool = False
    # What the rules say, as a short hash of the file's settings (not of its comments or layout): the
    # learned layer records the rules it was trained beside, so weights left over from other rules
    # can be told (see learned.trained_beside).
    fingerprint: str = ""

    @property
    def slugs(self) -> tuple[str, ...]:
        return tuple(topic.slug for topic in self.topics)

    @property
    def group_order(self) -> tuple[str, ...]:
        """Topics in the order digests group stories: a topic before the topics it implies, so a
        deepfakes story is listed under Deepfakes rather than under the broader AI misuse."""
        implied = {slug for topic in self.topics for slug in topic.also}
        return tuple(t.slug for t in self.topics if t.slug not in implied) + tuple(
            t.slug for t in self.topics if t.slug in implied
        )

    def topic(self, slug: str) -> Topic:
        for topic in self.topics:
            if topic.slug == slug:
                return topic
        raise KeyError(slug)


def load_rules(path: Path) -> Ruleset:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise RulesError(f"{path}: topics file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: not valid TOML: {exc}") from None
    return compile_rules(data, str(path))


def compile_rules(data: dict[str, Any], source: str = "topics.toml") -> Ruleset:
    return _Compiler(source).compile(data)


def rules_fingerprint(data: dict[str, Any]) -> str:
    """A short hash of a topics file's settings: equal for two files that say the same, whatever
    their comments, order of keys or layout."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class _Compiler:
    def __init__(self, source: str) -> None:
        self.source = source
        self.phrases: dict[str, Phrase] = {}
        self.group_numbers: dict[frozenset[int], int] = {}  # every distinct group the rules use

    def fail(self, where: str, message: str) -> RulesError:
        return RulesError(f"{self.source}: {where}: {message}")

    def compile(self, data: dict[str, Any]) -> Ruleset:
        known = {"version", "threshold", "title_weight", "groups", "topics"}
        for key in data:
            if key not in known:
                raise self.fail("top level", f"unknown key '{key}' (expected one of {', '.join(sorted(known))})")
        threshold = self.number(data.get("threshold", 1.0), "top level", "threshold")
        title_weight = self.number(data.get("title_weight", 1.5), "top level", "title_weight")
        raw_groups = data.get("groups", {})
        if not isinstance(raw_groups, dict):
            raise self.fail("groups", "must be a table of named phrase lists")
        groups = {name: self.phrase_set(value, f"group '{name}'") for name, value in raw_groups.items()}
        raw_topics = data.get("topics")
        if not isinstance(raw_topics, list) or not raw_topics:
            raise self.fail("topics", "no [[topics]] defined")
        topics = [self.topic(raw, i, groups, threshold) for i, raw in enumerate(raw_topics)]
        slugs = [t.slug for t in topics]
        for slug in slugs:
            if slugs.count(slug) > 1:
                raise self.fail(f"topic '{slug}'", "duplicate slug: each topic needs its own")
        for topic in topics:
            for implied in topic.also:
                if implied not in slugs:
                    raise self.fail(f"topic '{topic.slug}'", f"'also' names unknown topic '{implied}'")
        ordered = sorted(self.phrases.values(), key=lambda p: p.id)
        groups_of: list[list[int]] = [[] for _ in ordered]
        for group, number in self.group_numbers.items():
            for phrase_id in group:
                groups_of[phrase_id].append(number)
        return Ruleset(
            topics=tuple(topics),
            phrases=tuple(ordered),
            title_weight=title_weight,
            source=self.source,
            index=PhraseIndex(ordered),
            groups_of=tuple(tuple(numbers) for numbers in groups_of),
            # A topic with a threshold of zero or less is given to any story with one of its phrases
            # in any field, whether a rule reads that field or not.
            fields_read=frozenset(FIELDS)
            if any(t.threshold <= 0 for t in topics)
            else frozenset(f for t in topics for r in (*t.rules, *t.negatives) for f in r.fields),
            uses_content=any("content" in r.fields for t in topics for r in (*t.rules, *t.negatives)),
            fingerprint=rules_fingerprint(data),
        )

    def topic(self, raw: Any, index: int, groups: dict[str, frozenset[int]], threshold: float) -> Topic:
        if not isinstance(raw, dict):
            raise self.fail(f"topic #{index + 1}", "must be a table")
        slug = raw.get("slug")
        where = f"topic '{slug}'" if isinstance(slug, str) else f"topic #{index + 1}"
        if not isinstance(slug, str) or not SLUG.match(slug):
            raise self.fail(where, "needs a slug of lower-case letters, digits and hyphens (like 'ai-misuse')")
        known = {"slug", "name", "description", "threshold", "also", "rules", "negatives"}
        for key in raw:
            if key not in known:
                raise self.fail(where, f"unknown key '{key}'")
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise self.fail(where, "needs a display name")
        description = raw.get("description", "")
        if not isinstance(description, str):
            raise self.fail(where, "description must be text")
        also = raw.get("also", [])
        if not isinstance(also, list) or not all(isinstance(a, str) for a in also):
            raise self.fail(where, "'also' must be a list of topic slugs")
        raw_rules = self.table_list(raw.get("rules"), where, "rules")
        rules = [self.rule(r, where, i, groups) for i, r in enumerate(raw_rules)]
        if not rules:
            raise self.fail(where, "has no rules")
        negatives = [
            self.rule(r, where, i, groups, negative=True)
            for i, r in enumerate(self.table_list(raw.get("negatives", []), where, "negatives"))
        ]
        return Topic(
            slug=slug,
            phrase_ids=frozenset(i for r in (*rules, *negatives) for g in r.groups for i in g),
            group_numbers=frozenset(n for r in (*rules, *negatives) for n in r.group_numbers),
            name=name.strip(),
            description=description.strip(),
            threshold=self.number(raw.get("threshold", threshold), where, "threshold"),
            also=tuple(also),
            rules=tuple(rules),
            negatives=tuple(negatives),
        )

    def rule(
        self, raw: dict[str, Any], where: str, index: int, groups: dict[str, frozenset[int]], *, negative: bool = False
    ) -> Rule:
        name = raw.get("name", f"{'negative' if negative else 'rule'} #{index + 1}")
        here = f"{where}, {'negative' if negative else 'rule'} '{name}'"
        for key in raw:
            if key not in {"name", "weight", "fields", "phrases", "all"}:
                raise self.fail(here, f"unknown key '{key}'")
        if ("phrases" in raw) == ("all" in raw):
            raise self.fail(here, "needs either 'phrases' (any of them) or 'all' (a list of groups), not both")
        if "phrases" in raw:
            compiled: tuple[frozenset[int], ...] = (self.phrase_set(raw["phrases"], here, groups),)
        else:
            members = raw["all"]
            if not isinstance(members, list) or len(members) < 2:
                raise self.fail(here, "'all' needs at least two groups (group names or lists of phrases)")
            parts = []
            for member in members:
                parts.append(self.phrase_set(member, here, groups))
            compiled = tuple(parts)
        # A phrase somewhere in a long article is weak evidence of what the story is about: by default
        # rules read the headline and the summary; "content" is there for rules that ask for it.
        fields = raw.get("fields", ["title", "summary"])
        if not isinstance(fields, list) or not fields or any(f not in FIELDS for f in fields):
            raise self.fail(here, f"'fields' must list some of {', '.join(FIELDS)}")
        weight = self.number(raw.get("weight", 1.0), here, "weight")
        if weight <= 0:
            raise self.fail(here, "weight must be above zero (negatives subtract their weight)")
        numbers = tuple(self.group_numbers.setdefault(group, len(self.group_numbers)) for group in compiled)
        return Rule(
            name=str(name),
            weight=weight,
            fields=tuple(fields),
            groups=compiled,
            group_numbers=numbers,
            group_set=frozenset(numbers),
        )

    def phrase_set(self, value: Any, where: str, groups: dict[str, frozenset[int]] | None = None) -> frozenset[int]:
        if isinstance(value, str) and groups is not None:
            if value not in groups:
                raise self.fail(where, f"unknown group '{value}' (define it under [groups])")
            return groups[value]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise self.fail(where, "needs a non-empty list of phrases")
        ids = set()
        for text in value:
            if text not in self.phrases:
                try:
                    self.phrases[text] = make_phrase(len(self.phrases), text)
                except ValueError as exc:
                    raise self.fail(where, str(exc)) from None
            ids.add(self.phrases[text].id)
        return frozenset(ids)

    def table_list(self, value: Any, where: str, key: str) -> list[dict[str, Any]]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(where, f"'{key}' must be [[...]] tables")
        return value

    def number(self, value: Any, where: str, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(where, f"'{key}' must be a number, not {value!r}")
        return float(value)

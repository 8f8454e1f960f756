"""The configured topics' slugs, names and descriptions, read from the rules file without compiling it.

``digest topics`` and ``digest stories list`` need only these, and compiling every rule's phrases
takes longer than the rest of either command; so they read the file's ``[[topics]]`` tables as they
are. A file whose topics are not as expected is handed to the full loader (digest.tagging.rules),
so its mistakes are reported with the same words as everywhere else.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True, slots=True)
class TopicName:
    slug: str
    name: str
    description: str


def read_topic_names(path: Path) -> tuple[TopicName, ...]:
    """The topics in the file's order (the order topics are shown and digests are grouped in)."""
    try:
        with path.open("rb") as fh:
            found = _plain(tomllib.load(fh).get("topics"))
    except (OSError, tomllib.TOMLDecodeError):
        found = None
    return found if found is not None else _from_rules(path)


def _plain(raw: object) -> tuple[TopicName, ...] | None:
    """The topics, or None when anything about them is not as the full loader would accept."""
    if not isinstance(raw, list) or not raw:
        return None
    topics = []
    for entry in raw:
        if not isinstance(entry, dict):
            return None
        slug, name, description = entry.get("slug"), entry.get("name"), entry.get("description", "")
        if not (isinstance(slug, str) and SLUG.match(slug) and isinstance(name, str) and name.strip()):
            return None
        if not isinstance(description, str):
            return None
        topics.append(TopicName(slug, name, description))
    return tuple(topics) if len({t.slug for t in topics}) == len(topics) else None


def _from_rules(path: Path) -> tuple[TopicName, ...]:
    from digest.tagging.rules import load_rules  # raises RulesError, naming what is wrong

    return tuple(TopicName(t.slug, t.name, t.description) for t in load_rules(path).topics)

"""Addresses of the public archive: one page per edition and topic group, one Atom feed per topic.

A topic group is written as its topics joined by "+" in the configured topic order
("/archive/2026-12-01/ai-misuse+deepfakes"), so every reader with the same topics shares one
address, and it names nobody.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from digest.digests.editions import parse_edition, short_name

ROOT = "/archive/"


class NotInArchive(ValueError):
    """An archive address that names no edition or no known topic."""


def group_key(topics: Iterable[str], order: Collection[str]) -> str:
    """The topics in the configured order (unknown ones last, alphabetically), joined by "+"."""
    ranked = {slug: i for i, slug in enumerate(order)}
    return "+".join(sorted(set(topics), key=lambda t: (ranked.get(t, len(ranked)), t)))


def archive_path(edition: str, group: str) -> str:
    return f"{ROOT}{short_name(edition)}/{group}"


def feed_path(topic: str) -> str:
    return f"{ROOT}{topic}.atom"


def parse_page(edition: str, group: str, known: Collection[str]) -> tuple[str, list[str]]:
    """ "2026-12-01", "ai-misuse+deepfakes" -> ("daily:2026-12-01", ["ai-misuse", "deepfakes"])."""
    try:
        key = parse_edition(edition)
    except ValueError:
        raise NotInArchive(edition) from None
    topics = group.split("+")
    if not group or any(t not in known for t in topics) or group_key(topics, list(known)) != group:
        raise NotInArchive(group)  # one spelling per group: no duplicate pages under other names
    return key, topics

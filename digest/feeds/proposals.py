"""Rule proposals from the editors' corrections stored with the stories, and applying one.

The proposing itself is pure (digest.tagging.suggest); this module reads what it needs (every
stored story's headline and summary, every editor's pin) and, when an editor applies a proposal,
writes the rules file (digest.tagging.rulesfile) and re-tags the stored stories with the new rules.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from digest.db.engine import session_scope
from digest.failures import OperatorError
from digest.feeds import topic_store
from digest.feeds.retag import RetagReport, retag_stories
from digest.tagging.rules import RulesError, Ruleset
from digest.tagging.rulesfile import apply_proposal
from digest.tagging.suggest import Proposal, StoryText, suggest_changes


class UnknownProposal(OperatorError):
    """The key names no proposal the current rules and corrections give (any more)."""


@dataclass(frozen=True, slots=True)
class Proposals:
    proposals: list[Proposal]
    titles: dict[int, str]  # story id -> headline, for the stories the proposals name
    corrections: int  # how many editors' decisions there are


@dataclass(frozen=True, slots=True)
class Applied:
    proposal: Proposal
    ruleset: Ruleset
    report: RetagReport | None


def rules_data(ruleset: Ruleset) -> dict[str, Any]:
    """The rules file ``ruleset`` was loaded from, as data."""
    try:
        with Path(ruleset.source).open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RulesError(f"{ruleset.source}: cannot be read again: {exc}") from None


def find_proposals(engine: Engine, ruleset: Ruleset, *, limit: int = 10) -> Proposals:
    """The proposals the stored corrections give, best first."""
    with session_scope(engine, read_only=True) as session:
        decisions = topic_store.all_manual_decisions(session)
        if not decisions:  # nothing to learn from: no need to read every story
            return Proposals([], {}, 0)
        stories = [
            StoryText(t.id, t.title, t.summary) for batch in topic_store.iter_story_texts(session) for t in batch
        ]
    proposals = suggest_changes(rules_data(ruleset), ruleset, decisions, stories, limit=limit)
    named = {i for p in proposals for i in (*p.fixes, *p.undoes, *p.gains, *p.loses, *p.others)}
    titles = {s.id: s.title for s in stories if s.id in named}
    return Proposals(proposals, titles, sum(len(d) for d in decisions.values()))


def pick_proposal(engine: Engine, ruleset: Ruleset, key: str) -> Proposal:
    """The proposal the stored corrections give now under ``key``; UnknownProposal when none does."""
    found = find_proposals(engine, ruleset, limit=1000)
    proposal = next((p for p in found.proposals if p.key == key.strip().lower()), None)
    if proposal is None:
        raise UnknownProposal(
            f"no proposal '{key}' now (the rules or the corrections changed?): see `digest tagging suggest`"
        )
    return proposal


def apply_stored_proposal(
    engine: Engine,
    ruleset: Ruleset,
    proposal: Proposal,
    day: date,
    *,
    retag: bool = True,
    progress: Callable[[int], None] | None = None,
) -> Applied:
    """Write ``proposal`` into the rules file, then (``retag``) re-tag every stored story with it."""
    changed = apply_proposal(Path(ruleset.source), ruleset, proposal, day)
    report = retag_stories(engine, changed, advance=progress) if retag else None
    return Applied(proposal, changed, report)

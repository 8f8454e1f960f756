"""Rule proposals from the editors' corrections stored with the stories, and applying one.

The proposing itself is pure (digest.tagging.suggest); this module reads what it needs (every
stored story's headline and summary, every editor's pin) and, when an editor applies a proposal,
writes the rules file (digest.tagging.rulesfile) and re-tags the stored stories with the new rules.

Working proposals out re-tags every stored story in memory (about half a second per 10,000), so
the console keeps the last result in a ProposalCache, reused while nothing it depends on changed:
the rules file's content, the loaded rules, the editors' decisions and the stories' texts.
"""

from __future__ import annotations

import hashlib
import threading
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
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
        return tomllib.loads(_rules_text(ruleset))
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{ruleset.source}: cannot be read again: {exc}") from None


def _rules_text(ruleset: Ruleset) -> str:
    try:
        return Path(ruleset.source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"{ruleset.source}: cannot be read again: {exc}") from None


# Proposals are worked out this many at a time and cut to what each caller asks for, so one
# cached result serves the stories page (a few) and applying one (any).
_WORKED_OUT = 1000


@dataclass(slots=True)
class ProposalCache:
    """The proposals last worked out and what they were worked out from; one per web app.

    The key is read again on every use (a few small queries), so a pin added by another process, a
    story polled in, or a rules file edited by hand is seen at the next page load.
    """

    _key: tuple[object, ...] | None = None
    _ruleset: Ruleset | None = None
    _found: Proposals | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def proposals(self, engine: Engine, ruleset: Ruleset) -> Proposals:
        with session_scope(engine, read_only=True) as session:
            decisions = topic_store.all_manual_decisions(session)
            if not decisions:
                return Proposals([], {}, 0)
            # Read before working out: a change made meanwhile makes the next load work out again.
            key = (
                hashlib.sha256(_rules_text(ruleset).encode()).hexdigest(),
                tuple(sorted((i, tuple(sorted(d.items()))) for i, d in decisions.items())),
                topic_store.texts_version(session),
            )
        # One at a time: a second editor loading the page waits for the first result, not re-tags again.
        with self._lock:
            if self._found is None or self._key != key or self._ruleset is not ruleset:
                self._found = _work_out(engine, ruleset, _WORKED_OUT)
                self._key, self._ruleset = key, ruleset
            return self._found


def find_proposals(
    engine: Engine, ruleset: Ruleset, *, limit: int = 10, cache: ProposalCache | None = None
) -> Proposals:
    """The proposals the stored corrections give, best first (from ``cache`` while still current)."""
    if cache is None:
        return _work_out(engine, ruleset, limit)
    found = cache.proposals(engine, ruleset)
    return Proposals(found.proposals[:limit], found.titles, found.corrections)


def _work_out(engine: Engine, ruleset: Ruleset, limit: int) -> Proposals:
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


def pick_proposal(engine: Engine, ruleset: Ruleset, key: str, cache: ProposalCache | None = None) -> Proposal:
    """The proposal the stored corrections give now under ``key``; UnknownProposal when none does."""
    found = find_proposals(engine, ruleset, limit=_WORKED_OUT, cache=cache)
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

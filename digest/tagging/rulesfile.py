"""Writing an applied proposal (suggest.py) into the rules file, leaving the rest of it as it was.

The file is the editors' own: its comments, order and layout stay, the change gets a comment saying
where it came from, and nothing is written unless the changed rules still load.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Array, Table

from digest.tagging.rules import RulesError, Ruleset, compile_rules
from digest.tagging.suggest import Proposal


def apply_proposal(path: Path, ruleset: Ruleset, proposal: Proposal, day: date) -> Ruleset:
    """Make ``proposal``'s change in the rules file at ``path``; returns the rules as now written."""
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    topic = next((t for t in document.get("topics", []) if t.get("slug") == proposal.topic), None)
    if topic is None:
        raise RulesError(f"{path}: topic '{proposal.topic}' is no longer in the file")
    story_count = f"{len(proposal.fixes)} stor{'ies' if len(proposal.fixes) != 1 else 'y'}"
    origin = f"From editors' corrections ({day.isoformat()}, digest tagging apply {proposal.key})"
    if proposal.kind == "drop":
        _drop(
            document,
            topic,
            proposal.phrase,
            f'{origin}: removed "{proposal.phrase}", which gave '
            f"'{proposal.topic}' to {story_count} editors took it off.",
        )
    else:
        table = tomlkit.table()
        table.indent(2)  # as the file's own rules are
        if proposal.kind == "negative":
            table.add(tomlkit.comment(f"{origin}: editors took this topic off {story_count} with it."))
            table.add("name", f"editors removed it: {proposal.phrase}")
        else:
            table.add(tomlkit.comment(f"{origin}: editors gave this topic to {story_count} with it."))
            table.add("name", f"editors added it: {proposal.phrase}")
        table.add("weight", proposal.weight)
        table.add("phrases", [proposal.phrase])
        key = "negatives" if proposal.kind == "negative" else "rules"
        tables = topic.get(key)
        if isinstance(tables, AoT):
            tables.append(table)
        else:
            topic.append(key, tomlkit.aot())
            topic[key].append(table)
    text = tomlkit.dumps(document)
    # Compiling refuses a change that would not load; the learned layer stays beside the new rules.
    changed = replace(compile_rules(tomlkit.parse(text).unwrap(), str(path)), learned=ruleset.learned)
    _write(path, text)
    return changed


def _drop(document: Any, topic: Any, phrase: str, comment: str) -> None:
    groups = document.get("groups")
    names = set()
    for rule in topic.get("rules", []):
        members = [rule["phrases"]] if "phrases" in rule else list(rule.get("all", []))
        for member in members:
            if isinstance(member, str):
                names.add(member)
            elif isinstance(member, Array) and _remove(member, phrase):
                rule.add(tomlkit.comment(comment))  # a list inside "all" cannot carry a comment of its own
    for name in sorted(names):
        listed = groups.get(name) if isinstance(groups, Table) else None
        if isinstance(listed, Array) and _remove(listed, phrase):
            listed.comment(comment)


def _remove(members: Array, phrase: str) -> bool:
    if phrase not in members or len(members) < 2:
        return False
    del members[list(members).index(phrase)]
    return True


def _write(path: Path, text: str) -> None:
    # Written beside the file and renamed over it, so a crash never leaves half a rules file.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, path.stat().st_mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

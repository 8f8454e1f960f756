"""Editors' corrections applied on top of automatic grouping. Pure; no I/O.

Corrections name stories, not group keys, because keys are recomputed by every grouping while a
story stays itself: "merge the event of story 12 with the event of story 40" still means the same
thing after re-grouping. They are applied in the order editors made them, so a later one wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Decision:
    kind: str  # "merge" | "split"
    level: str  # "event" | "thread"
    story_id: int
    other_story_id: int | None = None


@dataclass(frozen=True, slots=True)
class Membership:
    event: str
    thread: str


def apply_decisions(groups: Mapping[int, Membership], decisions: Sequence[Decision]) -> dict[int, Membership]:
    """Each story's event and thread once the editors' decisions are applied.

    - split event S: S leaves its event for one of its own ("s:S"), staying in the thread;
    - split thread S: S's event leaves its thread for one of its own ("s:S");
    - merge event A B: B's event joins A's (and A's thread);
    - merge thread A B: B's thread joins A's.
    Decisions about stories that are not grouped (yet) are skipped, and so are headline choices
    (they say which report leads its event, not what is grouped).
    """
    result = dict(groups)
    for decision in decisions:
        if decision.kind not in ("merge", "split"):
            continue
        first = result.get(decision.story_id)
        if first is None:
            continue
        if decision.kind == "split":
            own = f"s:{decision.story_id}"
            if decision.level == "event":
                result[decision.story_id] = Membership(own, first.thread)
            else:
                for story, m in result.items():
                    if m.event == first.event:
                        result[story] = Membership(m.event, own)
            continue
        other = result.get(decision.other_story_id) if decision.other_story_id is not None else None
        if other is None:
            continue
        for story, m in result.items():
            if decision.level == "event" and m.event in (first.event, other.event):
                result[story] = Membership(first.event, first.thread)
            elif decision.level == "event" and m.thread == other.thread:
                # The rest of B's thread follows B's event into A's thread: one case, one thread.
                result[story] = Membership(m.event, first.thread)
            elif decision.level == "thread" and m.thread in (first.thread, other.thread):
                result[story] = Membership(m.event, first.thread)
    return result

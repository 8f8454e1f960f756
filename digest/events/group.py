"""The group stage: put new stories into events and threads against the recent window, and store it.

Only the window (``window_days`` of stories before the newest) is read, so the cost of a poll grows
with the recent stories and not with every story ever stored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from digest.events import store
from digest.events.decisions import apply_decisions
from digest.events.features import extract_many
from digest.events.grouping import Known, group_stories
from digest.events.scoring import DEFAULT_PARAMS, Params, Story

WINDOW_DAYS = 30


class CorrectionRefused(ValueError):
    """An editor's merge, split or headline choice that cannot be made; the message says why."""


@dataclass(frozen=True, slots=True)
class Event:
    """One event as editors see it: its key, its thread's key and its stories (oldest first)."""

    key: str
    thread: str
    stories: list[store.GroupedStory]


def group_new_stories(
    session: Session,
    now: datetime,
    story_ids: Iterable[int] | None = None,
    *,
    window_days: int = WINDOW_DAYS,
    params: Params = DEFAULT_PARAMS,
) -> int:
    """Group these stories (every ungrouped story of the window when None); returns how many."""
    since = now - timedelta(days=window_days)
    fresh = store.ungrouped(session, story_ids, since=None if story_ids is not None else since)
    return _group(session, now, fresh, window_days, params, replacing=True)


def group_stored_stories(
    session: Session,
    now: datetime,
    stories: Sequence[Story],
    *,
    window_days: int = WINDOW_DAYS,
    params: Params = DEFAULT_PARAMS,
) -> int:
    """Group stories just stored and not grouped yet (a poll's new ones), as the caller has them:
    reading them back would cost a poll of 10,000 new stories a twentieth of a second more."""
    return _group(session, now, stories, window_days, params, replacing=False)


def _group(
    session: Session,
    now: datetime,
    fresh: Sequence[Story],
    window_days: int,
    params: Params,
    *,
    replacing: bool,
) -> int:
    if not fresh:
        return 0
    since = now - timedelta(days=window_days)
    oldest = min(s.published for s in fresh)
    known = _with_features(session, store.known_since(session, min(since, oldest - timedelta(days=window_days))))
    store.save_assignments(session, group_stories(fresh, params, known=known), now, replacing=replacing)
    return len(fresh)


def _with_features(session: Session, known: list[Known]) -> list[Known]:
    """The window with every story's features: the ones grouped before features were kept (or by
    another version of extract_many) get theirs extracted once, and kept."""
    lacking = [i for i, k in enumerate(known) if k.features is None]
    if not lacking:
        return known
    stories = (known[i].story for i in lacking)
    missing = dict(zip(lacking, extract_many((s.title, s.summary) for s in stories), strict=True))
    store.keep_features(session, {int(known[i].story.key): f for i, f in missing.items()})
    return [replace(k, features=missing[i]) if i in missing else k for i, k in enumerate(known)]


def regroup_window(
    session: Session, now: datetime, *, window_days: int = WINDOW_DAYS, params: Params = DEFAULT_PARAMS
) -> int:
    """Group every story of the window again from scratch (after the method changed); editors'
    decisions are kept, because they are stored apart and applied on top."""
    since = now - timedelta(days=window_days)
    store.forget_since(session, since)
    return group_new_stories(session, now, window_days=window_days, params=params)


def events_since(session: Session, since: datetime) -> list[Event]:
    """Events of the stories published since ``since`` with editors' decisions applied, newest first."""
    stories = store.grouped_since(session, since)
    final = apply_decisions({s.id: s.membership for s in stories}, store.decisions(session))
    by_event: dict[str, list[store.GroupedStory]] = defaultdict(list)
    for s in stories:
        by_event[final[s.id].event].append(s)
    events = [Event(key, final[members[0].id].thread, members) for key, members in by_event.items()]
    events.sort(key=lambda e: e.stories[-1].published, reverse=True)
    return events


def correct(session: Session, kind: str, level: str, story_id: int, other_story_id: int | None, now: datetime) -> None:
    """Record an editor's correction (merge, split, headline), kept apart from the automatic grouping
    and applied on top of every grouping; refuses stories that do not exist or are not grouped yet."""
    if kind == "merge" and (other_story_id is None or other_story_id == story_id):
        raise CorrectionRefused("merge needs two different stories")
    for sid in (story_id, other_story_id) if kind == "merge" else (story_id,):
        assert sid is not None
        if not store.story_exists(session, sid):
            raise CorrectionRefused(f"no story has id {sid}")
        if not store.is_grouped(session, sid):
            raise CorrectionRefused(f"story {sid} is not grouped yet: run 'digest events regroup' first")
    store.add_decision(session, kind, level, story_id, other_story_id if kind == "merge" else None, now)

"""Planning an edition: for every confirmed subscriber without a delivery for the current edition,
choose the stories and queue one outbox row (or record that there was nothing new).

Subscribers are streamed in batches, never all loaded; stories are loaded once per run. The rows are
committed before anything is sent, so a crash while sending loses nothing. An edition waiting for an
editor's approval (``digest.review = "approve"``) or held is planned but nothing of it is queued.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from digest.config import Settings
from digest.db.engine import session_scope
from digest.digests import edition_store, plan_store, review
from digest.digests.editions import Desk, edition_for
from digest.digests.select import Candidate, Selection, load_candidates, select_stories
from digest.subscribers.models import Subscriber
from digest.subscribers.recipient_store import Recipient
from digest.tagging.rules import Ruleset


@dataclass(slots=True)
class PlanReport:
    editions: dict[str, str]  # frequency -> edition key
    queued: int = 0
    empty: int = 0
    already: int = 0  # had their delivery for this edition already
    waiting: dict[str, str] = field(default_factory=dict)  # frequency -> edition key not released yet
    waiting_readers: int = 0  # readers of those editions, who get theirs once it is approved


def since_for(
    settings: Settings, last_window: datetime | None, now: datetime, edition_start: datetime | None
) -> datetime:
    """Where a subscriber's next digest starts: where their last digest ended; for a reader who has
    had none yet, where the current edition starts (when the previous edition of their frequency
    was planned), so a reader who confirmed a minute before the send gets the whole edition.
    Never further back than ``digest.max_age_days``."""
    oldest = now - timedelta(days=settings.digest.max_age_days)
    start = last_window or edition_start or oldest
    return max(start, oldest)


def selection_for(
    settings: Settings,
    ruleset: Ruleset,
    candidates: list[Candidate],
    subscriber: Subscriber | Recipient,
    since: datetime,
    desk: Desk | None = None,
    also: Collection[int] = (),
) -> Selection:
    return select_stories(
        candidates,
        ruleset.group_order,
        subscriber.topic_slugs,
        since,
        settings.digest.max_stories_per_topic,
        exclude=desk.excluded if desk else (),
        also=also,
    )


def plan_edition(
    engine: Engine,
    settings: Settings,
    ruleset: Ruleset,
    now: datetime,
    *,
    dry_run: bool = False,
    batch: int = 1000,
    on_batch: Callable[[int], None] | None = None,
) -> PlanReport:
    """Queue the current edition for everyone due; with ``dry_run`` only count."""
    editions = {f: edition_for(f, now, settings.digest.timezone) for f in ("daily", "weekly")}
    report = PlanReport(editions)
    oldest = now - timedelta(days=settings.digest.max_age_days)
    with session_scope(engine) as session:
        ready = {f: review.ready_to_queue(session, settings, key, now) for f, key in editions.items()}
        desks = {f: review.desk_of(session, key) for f, key in editions.items()}
        kept = {f: edition_store.kept_for_next(session, f, key) - desks[f].excluded for f, key in editions.items()}
        starts = {f: edition_store.previous_planned(session, f, key) for f, key in editions.items()}
        candidates = load_candidates(session, oldest, now)
        if dry_run:
            session.rollback()  # a dry run changes nothing, not even the editions' states
    report.waiting = {f: key for f, key in editions.items() if not ready[f]}
    # Rows are due at once even when planning "as of" a later time (digest send --now).
    queued_at = min(now, datetime.now(UTC))
    policy = None if settings.privacy.send_before_new_policy_accepted else settings.privacy.policy_version
    with session_scope(engine, read_only=True) as reader:  # the batches commit beside it
        # Most readers share their topics and window start with many others: select once for them
        # all, keeping the chosen story ids and whether they make a digest to send.
        selections: dict[tuple[str, tuple[str, ...], datetime, frozenset[int]], tuple[tuple[int, ...], bool]] = {}
        for due in plan_store.iter_due(
            reader, editions, max_failures=settings.delivery.max_failures, policy_version=policy, batch=batch
        ):
            got = edition_store.received(reader, [d.person.id for d in due], oldest) if any(kept.values()) else {}
            full: list[tuple[int, str, tuple[int, ...], datetime]] = []
            empty: list[tuple[int, str, tuple[int, ...], datetime]] = []
            for person, queued, last_window in due:
                frequency = person.frequency
                if queued:
                    report.already += 1
                    continue
                if not ready[frequency]:
                    report.waiting_readers += 1
                    continue
                since = since_for(settings, last_window, now, starts[frequency])
                again = frozenset(kept[frequency] - got.get(person.id, set()))
                key = (frequency, tuple(person.topic_slugs), since, again)
                chosen = selections.get(key)
                if chosen is None:
                    picked = selection_for(settings, ruleset, candidates, person, since, desks[frequency], again)
                    chosen = selections[key] = (picked.story_ids, bool(picked.count or settings.digest.send_empty))
                story_ids, sent = chosen
                (full if sent else empty).append((person.id, editions[frequency], story_ids, now))
            report.queued += len(full)
            report.empty += len(empty)
            if not dry_run:
                with session_scope(engine) as writer:
                    plan_store.queue(writer, full, queued_at)
                    plan_store.queue(writer, empty, queued_at, empty=True)
            if on_batch:
                on_batch(len(due))
    if report.queued and not dry_run:
        with session_scope(engine) as session:
            plan_store.refresh_statistics(session)
    return report


def release_due(engine: Engine, settings: Settings, ruleset: Ruleset, now: datetime) -> PlanReport | None:
    """Queue editions approved since the send job planned them (or past their review deadline)."""
    current = {edition_for(f, now, settings.digest.timezone) for f in ("daily", "weekly")}
    with session_scope(engine) as session:
        due = current.intersection(review.due(session, settings, now))
    if not due:
        return None
    return plan_edition(engine, settings, ruleset, now)

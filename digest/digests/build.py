"""Planning an edition: for every confirmed subscriber without a delivery for the current edition,
choose the stories and queue one outbox row (or record that there was nothing new).

Subscribers are streamed in batches, never all loaded; stories are loaded once per run. The rows are
committed before anything is sent, so a crash while sending loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import Engine

from digest.config import Settings
from digest.db.engine import session_scope
from digest.digests.editions import edition_for
from digest.digests.render import digest_message, render_digest
from digest.digests.select import Candidate, Selection, load_candidates, select_stories
from digest.mail import outbox
from digest.subscribers import store as subscribers
from digest.subscribers.links import Links, links_for
from digest.subscribers.models import Subscriber
from digest.subscribers.tokens import LinkSigner
from digest.tagging.rules import Ruleset


@dataclass(slots=True)
class PlanReport:
    editions: dict[str, str]  # frequency -> edition key
    queued: int = 0
    empty: int = 0
    already: int = 0  # had their delivery for this edition already


def since_for(settings: Settings, subscriber: Subscriber, last_window: datetime | None, now: datetime) -> datetime:
    """Where a subscriber's next digest starts: their last digest, or their confirmation."""
    start = last_window or subscriber.confirmed_at or subscriber.created_at
    return max(start, now - timedelta(days=settings.digest.max_age_days))


def selection_for(
    settings: Settings, ruleset: Ruleset, candidates: list[Candidate], subscriber: Subscriber, since: datetime
) -> Selection:
    return select_stories(
        candidates, ruleset.group_order, subscriber.topic_slugs, since, settings.digest.max_stories_per_topic
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
        candidates = load_candidates(session, oldest, now)
    policy = None if settings.privacy.send_before_new_policy_accepted else settings.privacy.policy_version
    with session_scope(engine, read_only=True) as reader:  # the batches commit beside it
        for people in subscribers.iter_sendable(
            reader, max_failures=settings.delivery.max_failures, policy_version=policy, batch=batch
        ):
            ids = [p.id for p in people]
            windows = outbox.last_windows(reader, ids)
            done = {f: outbox.existing_editions(reader, ids, e) for f, e in editions.items()}
            full: list[tuple[int, str, tuple[int, ...], datetime]] = []
            empty: list[tuple[int, str, tuple[int, ...], datetime]] = []
            for person in people:
                edition = editions[person.frequency]
                if person.id in done[person.frequency]:
                    report.already += 1
                    continue
                chosen = selection_for(
                    settings, ruleset, candidates, person, since_for(settings, person, windows.get(person.id), now)
                )
                row = (person.id, edition, chosen.story_ids, now)
                (full if chosen.count or settings.digest.send_empty else empty).append(row)
            report.queued += len(full)
            report.empty += len(empty)
            if not dry_run:
                with session_scope(engine) as writer:
                    outbox.queue(writer, full, now)
                    outbox.queue(writer, empty, now, empty=True)
            if on_batch:
                on_batch(len(people))
    return report


def preview_message(
    engine: Engine, settings: Settings, ruleset: Ruleset, signer: LinkSigner, email: str, now: datetime
) -> EmailMessage | None:
    """Exactly what this subscriber would get if the current edition were sent now; changes nothing.

    None when no subscriber has the address.
    """
    with session_scope(engine) as session:
        person = subscribers.by_email(session, email)
        if person is None:
            return None
        edition = edition_for(person.frequency, now, settings.digest.timezone)
        candidates = load_candidates(session, now - timedelta(days=settings.digest.max_age_days), now)
        last = outbox.last_windows(session, [person.id]).get(person.id)
        chosen = selection_for(settings, ruleset, candidates, person, since_for(settings, person, last, now))
        names = {t.slug: t.name for t in ruleset.topics}
        rendered = render_digest(settings, names, chosen, person.topic_slugs, person.frequency, edition)
        return digest_message(
            settings, rendered, person.email, links_for(settings, signer, person), edition, person.link_key
        )


def preview_for_choice(
    engine: Engine, settings: Settings, ruleset: Ruleset, topics: list[str], frequency: str, now: datetime
) -> EmailMessage:
    """What a new subscriber with these topics and frequency would get in a full edition now."""
    edition = edition_for(frequency, now, settings.digest.timezone)
    since = now - timedelta(days=1 if frequency == "daily" else 7)
    with session_scope(engine) as session:
        candidates = load_candidates(session, since, now)
    chosen = select_stories(candidates, ruleset.group_order, topics, since, settings.digest.max_stories_per_topic)
    names = {t.slug: t.name for t in ruleset.topics}
    rendered = render_digest(settings, names, chosen, sorted(topics), frequency, edition)
    base = settings.base_url.rstrip("/")
    sample = Links(
        confirm="",
        preferences=f"{base}/preferences/SAMPLE",
        unsubscribe=f"{base}/unsubscribe/SAMPLE",
        privacy=settings.policy_url,
    )
    return digest_message(settings, rendered, "reader@example.org", sample, edition, "preview")

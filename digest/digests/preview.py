"""Previews that say what they show: a reader's next digest (which edition, and whether they already
received the current one), or what a topic group gets in the current edition, with the editors'
lead, notes and exclusions applied. Nothing is sent or marked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from digest.config import Settings
from digest.db.base import iso
from digest.db.engine import session_scope
from digest.digests import edition_store, review
from digest.digests.build import selection_for, since_for
from digest.digests.editions import edition_for, edition_label, next_edition, short_name
from digest.digests.render import digest_message, render_digest
from digest.digests.select import Selection, load_by_ids, load_candidates, regroup, select_stories
from digest.digests.threads import earliest_needed, with_earlier
from digest.events.view import thread_stories
from digest.mail import outbox
from digest.subscribers import store as subscribers
from digest.subscribers.links import Links, links_for
from digest.subscribers.models import Subscriber
from digest.subscribers.tokens import LinkSigner
from digest.tagging.rules import Ruleset


@dataclass(frozen=True, slots=True)
class Preview:
    message: EmailMessage
    edition: str  # the edition the previewed digest belongs to
    explanation: str  # one or two sentences for people: what this is, and what send would do
    received_current: bool  # the reader already received the current edition
    skipped: str | None = None  # why send would not mail this reader at all, if it would not


def _describe(key: str) -> str:
    return f"the {key.partition(':')[0]} edition of {edition_label(key)} ({short_name(key)})"


def _skipped(settings: Settings, person: Subscriber) -> str | None:
    if person.status != "confirmed":
        return f"this address is {person.status}: send mails it nothing"
    if person.failed_deliveries >= settings.delivery.max_failures:
        return f"mail to this address failed {person.failed_deliveries} times in a row: send leaves it out"
    policy = settings.privacy.policy_version
    if not settings.privacy.send_before_new_policy_accepted and person.policy_version != policy:
        return f"this reader has not accepted privacy policy {policy} yet: send waits for them"
    return None


def preview_message(
    engine: Engine, settings: Settings, ruleset: Ruleset, signer: LinkSigner, email: str, now: datetime
) -> Preview | None:
    """The next digest this reader would get; None when no subscriber has the address."""
    names = {t.slug: t.name for t in ruleset.topics}
    oldest = now - timedelta(days=settings.digest.max_age_days)
    with session_scope(engine) as session:
        person = subscribers.by_email(session, email)
        if person is None:
            return None
        current = edition_for(person.frequency, now, settings.digest.timezone)
        row = next((d for d in outbox.deliveries_of(session, person.id) if d.edition == current), None)
        if row is not None and row.state in ("queued", "sending"):
            edition, received = current, False
            desk = review.desk_of(session, edition)
            chosen = list(load_by_ids(session, json.loads(row.story_ids)).values())
            selection = regroup(ruleset.group_order, chosen, person.topic_slugs, desk.excluded)
            explanation = (
                f"The digest queued for this reader in {_describe(edition)}, as it will be sent, "
                "with the editors' changes so far."
            )
        else:
            edition = current if row is None else next_edition(current)
            received = row is not None and row.state == "sent"
            desk = review.desk_of(session, edition)
            candidates = load_candidates(session, oldest, now)
            last = outbox.last_windows(session, [person.id]).get(person.id)
            kept = edition_store.kept_for_next(session, person.frequency, edition) - desk.excluded
            got = edition_store.received(session, [person.id], oldest).get(person.id, set()) if kept else set()
            since = since_for(settings, last, now, edition_store.previous_planned(session, person.frequency, edition))
            selection = selection_for(settings, ruleset, candidates, person, since, desk, kept - got)
            explanation = _next_explanation(edition, current, row.state if row else None, row.sent_at if row else None)
        selection = _with_earlier(session, selection, person.id)
        skipped = _skipped(settings, person)
        rendered = render_digest(settings, names, selection, person.topic_slugs, person.frequency, edition, desk)
        message = digest_message(
            settings, rendered, person.email, links_for(settings, signer, person), edition, person.link_key
        )
    return Preview(message, edition, explanation, received, skipped)


def _with_earlier(session: Session, selection: Selection, subscriber_id: int) -> Selection:
    """ "Earlier in this story" as this reader's digest will have it: the thread's earlier events they got."""
    threads = thread_stories(session, selection.story_ids)
    oldest = earliest_needed(selection, threads)
    got = edition_store.received(session, [subscriber_id], oldest).get(subscriber_id, set()) if oldest else set()
    return with_earlier(selection, threads, got)


def _next_explanation(edition: str, current: str, state: str | None, sent_at: datetime | None) -> str:
    if state is None:
        return f"This reader has not received {_describe(current)} yet: this is what the next send gives them."
    if state == "sent":
        done = f"already received {_describe(current)} (sent {iso(sent_at)})"
    elif state == "empty":
        done = f"had nothing new in {_describe(current)}"
    else:
        done = f"was not sent {_describe(current)} ({state})"
    return (
        f"This reader {done}. This is their next digest, {_describe(edition)}, as it stands now; "
        "stories that arrive before then will be added."
    )


def preview_for_choice(
    engine: Engine, settings: Settings, ruleset: Ruleset, topics: list[str], frequency: str, now: datetime
) -> Preview:
    """What a reader with these topics and frequency gets in a full current edition, as decided so far."""
    edition = edition_for(frequency, now, settings.digest.timezone)
    since = now - timedelta(days=1 if frequency == "daily" else 7)
    with session_scope(engine) as session:
        candidates = load_candidates(session, since, now)
        desk = review.desk_of(session, edition)
    chosen = select_stories(
        candidates, ruleset.group_order, topics, since, settings.digest.max_stories_per_topic, exclude=desk.excluded
    )
    names = {t.slug: t.name for t in ruleset.topics}
    rendered = render_digest(settings, names, chosen, sorted(topics), frequency, edition, desk)
    base = settings.base_url.rstrip("/")
    sample = Links(
        confirm="",
        preferences=f"{base}/preferences/SAMPLE",
        unsubscribe=f"{base}/unsubscribe/SAMPLE",
        privacy=settings.policy_url,
    )
    message = digest_message(settings, rendered, "reader@example.org", sample, edition, "preview")
    group = ", ".join(names.get(t, t) for t in sorted(topics, key=ruleset.group_order.index))
    explanation = f"What readers of {group} get in {_describe(edition)}, with the editors' decisions so far."
    return Preview(message, edition, explanation, False)

"""Claiming a batch of queued deliveries and building every copy in it, outside any write transaction.

Most readers share their stories and topics with many others, so each batch works per group: the
stories are regrouped under a reader's topics once per (edition, decisions, stories, topics), the
group is rendered and encoded once, and each copy adds only what is its own (address, Message-ID,
signed links, return path). What earlier batches of the run read or made is kept in ``Known``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from digest.config import Settings
from digest.db.engine import session_scope, writer_turn
from digest.digests import archive_store, edition_store, review
from digest.digests.archive_paths import group_key
from digest.digests.connections import Outgoing
from digest.digests.editions import Desk
from digest.digests.render import Rendered, digest_bytes, message_id, render_digest
from digest.digests.select import Candidate, Selection, load_by_ids, regroup
from digest.digests.threads import earliest_needed, with_earlier
from digest.events.view import ThreadStory, thread_stories
from digest.mail import outbox
from digest.mail.return_path import ReturnPath
from digest.subscribers import recipient_store
from digest.subscribers.links import links_for
from digest.subscribers.tokens import LinkSigner

CLAIM_BATCH = 200


@dataclass(frozen=True, slots=True)
class SendLayout:
    """What sending needs of the topics: their names and section order (cheap to hand to a process)."""

    names: dict[str, str]
    group_order: tuple[str, ...]


@dataclass(slots=True)
class Known:
    """What one sender's earlier batches read and made: stories, their threads, groups, renderings."""

    stories: dict[int, Candidate] = field(default_factory=dict)
    threads: dict[str, list[ThreadStory]] = field(default_factory=dict)
    # (edition, desk version, story ids, topics) -> the stories regrouped under those topics
    selections: dict[tuple[object, ...], Selection] = field(default_factory=dict)
    renderings: dict[tuple[object, ...], Rendered] = field(default_factory=dict)


def prepare_batch(
    engine: Engine,
    settings: Settings,
    layout: SendLayout,
    signer: LinkSigner,
    return_path: ReturnPath,
    worker: str,
    known: Known,
    clock: Callable[[], datetime],
) -> list[Outgoing] | None:
    """Claim the next rows and build their messages; None when nothing is due.

    Only the claim and the few rows that will not be sent are written; the messages are built
    outside any write transaction, so other senders' hand-overs never wait for them."""
    stories, threads = known.stories, known.threads
    now = clock()
    with writer_turn(engine), session_scope(engine) as session:
        claimed = outbox.claim(session, worker, now, CLAIM_BATCH, review.held_editions(session))
    if not claimed:
        return None
    with session_scope(engine, read_only=True) as session:
        # Read once per batch: editors' changes made while an edition is sending reach the rest of it.
        desks: dict[str, Desk] = {e: review.desk_of(session, e) for e in {c.edition for c in claimed}}
        people = recipient_store.recipients_by_ids(session, {c.subscriber_id for c in claimed})
        missing = {i for c in claimed for i in c.story_ids} - stories.keys()
        if missing:
            stories.update(load_by_ids(session, missing))
            threads.update(thread_stories(session, missing))
        selections: dict[int, tuple[tuple[object, ...], Selection]] = {}
        for row in claimed:
            person = people.get(row.subscriber_id)
            if person is not None:
                desk = desks[row.edition]
                group: tuple[object, ...] = (row.edition, desk.version, row.story_ids, tuple(person.topic_slugs))
                chosen = known.selections.get(group)
                if chosen is None:
                    picked = [stories[i] for i in row.story_ids if i in stories]
                    chosen = known.selections[group] = regroup(
                        layout.group_order, picked, person.topic_slugs, desk.excluded
                    )
                selections[row.id] = (group, chosen)
        # Only readers of items that continue a thread need their earlier digests read.
        distinct = {id(s): s for _g, s in selections.values()}.values()
        oldest = min(filter(None, (earliest_needed(s, threads) for s in distinct)), default=None)
        got = edition_store.received(session, list(people), oldest) if oldest else {}
    batch = []
    cancelled: list[int] = []
    empty: list[int] = []
    narrowed: list[tuple[int, tuple[int, ...]]] = []
    archived: list[tuple[str, str, tuple[int, ...]]] = []  # what each new rendering carried, for the archive
    for row in claimed:
        person = people.get(row.subscriber_id)
        if person is None or person.status != "confirmed":
            cancelled.append(row.id)
            continue
        desk = desks[row.edition]
        group, selection = selections[row.id]
        if desk.excluded and set(selection.story_ids) != set(row.story_ids):
            if not selection.count and not settings.digest.send_empty:
                empty.append(row.id)  # every story of it was excluded
                continue
            narrowed.append((row.id, selection.story_ids))
        received = got.get(person.id, ())
        if received:  # this reader's "earlier in this story" lines are their own
            selection = with_earlier(selection, threads, received)
            key: tuple[object, ...] = (person.frequency, row.edition, selection, desk.version)
        else:
            key = (person.frequency, group)
        rendered = known.renderings.get(key)
        if rendered is None:
            rendered = known.renderings[key] = render_digest(
                settings, layout.names, selection, person.topic_slugs, person.frequency, row.edition, desk
            )
            if selection.count:
                archived.append((row.edition, group_key(person.topic_slugs, layout.group_order), selection.story_ids))
        links = links_for(settings, signer, person, confirm=False)
        ident = message_id(settings, row.edition, person.link_key)
        data = digest_bytes(settings, rendered, person.email, links, row.edition, person.link_key, ident, wire=True)
        failures = person.failed_deliveries > 0
        sender = return_path.for_delivery(row.id)
        batch.append(Outgoing(row.id, person.id, row.attempts, person.email, ident, data, failures, sender))
    if cancelled or empty or narrowed or archived:
        with writer_turn(engine), session_scope(engine) as session:
            # In one order in every sender process: two processes recording the same new groups in
            # different orders deadlock on the archive's unique index on PostgreSQL.
            for edition, group_name, story_ids in sorted(archived):
                archive_store.record_issue(session, edition, group_name, story_ids, now)
            for delivery_id in cancelled:
                outbox.mark_cancelled(session, delivery_id, now)
            for delivery_id in empty:
                outbox.mark_empty(session, delivery_id, now)
            for delivery_id, story_ids in narrowed:
                edition_store.set_delivered_stories(session, delivery_id, story_ids)
    return batch

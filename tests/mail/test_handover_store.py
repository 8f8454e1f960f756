"""The sending path's bookkeeping, written straight to the driver: what it records reads back exactly
as the ORM wrote it, an unsubscribed reader's row is not handed over, and given-back rows are sent
by the next run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select

from digest.config import Settings
from digest.db.engine import session_scope
from digest.digests.build import plan_edition
from digest.mail import handover_store, outbox
from digest.mail.models import Delivery
from digest.tagging.rules import Ruleset
from tests.digests.helpers import ingest, rss, subscribe


def test_a_group_of_steps_records_hands_over_and_gives_back(
    engine: Engine, settings: Settings, ruleset: Ruleset
) -> None:
    now = datetime.now(UTC).replace(microsecond=123456)
    for name in ("ann", "bob", "cat"):
        subscribe(engine, settings, f"{name}@example.org", ["deepfakes"], "daily", now - timedelta(days=1), ruleset)
    ingest(engine, ruleset, rss(("Court bans nudify apps", "https://wire.example/1", "<p>Deepfakes.</p>")), now)
    plan_edition(engine, settings, ruleset, now)
    with session_scope(engine) as s:
        ann, bob, cat = outbox.claim(s, "sender-1", now, 10)
        outbox.cancel_unsent(s, bob.subscriber_id, now)  # bob unsubscribed after the claim

    with engine.connect() as connection, connection.begin():
        handed = handover_store.record_and_hand_over(connection, [], [ann.id, bob.id], [cat.id], "sender-1", now)
    assert handed == {ann.id}
    later = now + timedelta(seconds=2)
    with engine.connect() as connection, connection.begin():
        handover_store.record_and_hand_over(connection, [(ann.id, "<m1@localhost>")], [], [], "sender-1", later)

    with session_scope(engine) as s:
        rows = {row.id: row for person in (ann, bob, cat) for row in outbox.deliveries_of(s, person.subscriber_id)}
        assert (rows[ann.id].state, rows[ann.id].sent_at, rows[ann.id].message_id) == ("sent", later, "<m1@localhost>")
        assert rows[ann.id].attempts == 1
        assert rows[bob.id].state == "cancelled"
        assert rows[cat.id].state == "queued" and rows[cat.id].claimed_by is None
        # Times written here compare in SQL with times written through the ORM.
        assert s.scalar(select(func.count()).where(Delivery.id == cat.id, Delivery.updated_at == now)) == 1
        assert s.scalar(select(func.count()).where(Delivery.id == ann.id, Delivery.sent_at == later)) == 1
        (again,) = outbox.claim(s, "sender-2", later, 10)
        assert again.id == cat.id

"""A one-click unsubscribe while the reader's digest is being handed to the mail server: the answer
waits until that message is through, so "unsubscribed" is never followed by a digest."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from digest.config import Settings
from digest.db.engine import session_scope
from digest.digests.build import plan_edition
from digest.mail import outbox
from digest.subscribers import store
from digest.subscribers.links import make_signer
from digest.tagging.rules import Ruleset
from tests.digests.helpers import ingest, rss, subscribe


def test_the_answer_waits_for_a_digest_in_flight(
    client: TestClient, web_settings: Settings, engine: Engine, ruleset: Ruleset
) -> None:
    now = datetime.now(UTC)
    subscribe(engine, web_settings, "reader@example.org", ["deepfakes"], "daily", now - timedelta(days=1), ruleset)
    ingest(engine, ruleset, rss(("Court bans nudify apps", "https://wire.example/1", "<p>Deepfakes.</p>")), now)
    plan_edition(engine, web_settings, ruleset, now)
    with session_scope(engine) as s:
        (row,) = outbox.claim(s, "sender-1", now, 10)
        assert outbox.hand_over(s, row.id, "sender-1", now)  # its message is going to the server now
        person = store.by_email(s, "reader@example.org")
        assert person is not None
    token = make_signer(web_settings, engine).make("unsubscribe", person.link_key)
    answers: list[int] = []
    posting = threading.Thread(
        target=lambda: answers.append(
            client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}).status_code
        )
    )
    posting.start()
    try:
        # The unsubscribe is committed first, then the answer waits; a busy machine may take a while
        # to get the request that far, so wait for the commit rather than for a fixed time.
        deadline = time.monotonic() + 20
        status = "confirmed"
        while status != "unsubscribed" and time.monotonic() < deadline:
            time.sleep(0.05)
            with session_scope(engine, read_only=True) as s:
                status = store.by_email(s, "reader@example.org").status  # type: ignore[union-attr]
        assert status == "unsubscribed"
        time.sleep(0.3)
        assert answers == []  # not answered while the message is half handed over
    finally:
        with session_scope(engine) as s:
            outbox.mark_sent(s, row.id, "<m@localhost>", datetime.now(UTC))
    posting.join(timeout=10)
    assert answers == [200]
    with session_scope(engine) as s:
        (delivery,) = outbox.deliveries_of(s, person.id)
        assert delivery.state == "sent"  # it did go out, before the reader was told

"""Delivery through a real SMTP server on loopback: retries, permanent failures, crashes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import Engine, update

from digest.config import DeliverySettings, Settings
from digest.db.engine import session_scope
from digest.digests import deliver as deliver_module
from digest.digests.build import plan_edition
from digest.digests.deliver import deliver_queued
from digest.mail import outbox
from digest.mail.models import Delivery
from digest.mail.transports import FileOutbox
from digest.subscribers import signup
from digest.subscribers import store as subscribers
from digest.subscribers.links import make_signer
from digest.tagging.rules import Ruleset
from tests.digests.helpers import ingest, rss, subscribe
from tests.inert import mail_problems
from tests.mailbox import html_of, messages, text_of
from tests.smtpserver import SmtpServer, SmtpSink

DAY0 = datetime(2026, 10, 5, 8, tzinfo=UTC)
NEWS = rss(("Court bans nudify apps", "https://wire.example/1", "<p>Deepfake images of pupils.</p>"))


def newsroom(engine: Engine, settings: Settings, ruleset: Ruleset, readers: list[str]) -> None:
    for reader in readers:
        subscribe(engine, settings, reader, ["deepfakes"], "daily", DAY0 - timedelta(days=1), ruleset)
    ingest(engine, ruleset, NEWS, DAY0)
    plan_edition(engine, settings, ruleset, DAY0 + timedelta(hours=1))


def states(engine: Engine) -> dict[str, str]:
    with session_scope(engine) as s:
        people = {p.id: p.email for batch in subscribers.iter_subscribers(s) for p in batch}
        return {people[d.subscriber_id]: d.state for pid in people for d in outbox.deliveries_of(s, pid)}


def test_smtp_delivery_retries_temporary_and_fails_permanent_errors(
    engine: Engine, database_url: str, ruleset: Ruleset, smtp_server: SmtpServer
) -> None:
    settings = Settings(
        database_url=database_url,
        mail_url=smtp_server.url,
        secret_key="k",
        delivery=DeliverySettings(connections=2, retry_minutes=1, max_failures=1),
    )
    readers = [f"r{i}@example.org" for i in range(6)] + ["gone@example.org", "busy@example.org"]
    newsroom(engine, settings, ruleset, readers)
    smtp_server.sink.refuse = {"gone@example.org": "550 5.1.1 No such user", "busy@example.org": "451 4.3.0 Busy"}
    report = deliver_queued(engine, settings, ruleset, make_signer(settings, engine))
    assert (report.sent, report.failed, report.retrying) == (6, 1, 1)
    assert sorted(r.recipients[0] for r in smtp_server.sink.received) == sorted(readers[:6])
    assert smtp_server.sink.connections <= 2  # connections are reused, never one per message
    received = smtp_server.sink.received[0].message
    assert received.get_content_type() == "multipart/alternative"
    assert "Court bans nudify apps" in text_of(received) and "Court bans nudify apps" in html_of(received)
    assert states(engine)["gone@example.org"] == "failed" and states(engine)["busy@example.org"] == "queued"
    with session_scope(engine) as s:
        gone = subscribers.by_email(s, "gone@example.org")
        assert gone is not None and gone.failed_deliveries == 1
        busy = subscribers.by_email(s, "busy@example.org")
        assert busy is not None
        (row,) = outbox.deliveries_of(s, busy.id)
        assert row.attempts == 1 and row.next_attempt_at > datetime.now(UTC) and "451" in (row.last_error or "")
        # Time passes and the server recovers: the retry goes out.
        s.execute(update(Delivery).where(Delivery.id == row.id).values(next_attempt_at=datetime.now(UTC)))
    smtp_server.sink.refuse = {}
    assert deliver_queued(engine, settings, ruleset, make_signer(settings, engine)).sent == 1
    assert states(engine)["busy@example.org"] == "sent"
    # The address that failed for good is left out of the next edition.
    later = plan_edition(engine, settings, ruleset, DAY0 + timedelta(days=1, hours=1))
    assert later.queued + later.empty == 7


class CrashingOutbox(FileOutbox):
    """Writes messages until the n-th, then the process "dies" mid-send."""

    def __init__(self, folder: Path, crash_at: int) -> None:
        super().__init__(folder)
        self.crash_at = crash_at
        self.count = 0

    def send_raw(self, sender: str, recipient: str, data: bytes) -> None:
        self.count += 1
        if self.count >= self.crash_at:  # once the power is out, nothing more goes out
            raise KeyboardInterrupt("the power went out")
        super().send_raw(sender, recipient, data)


def test_a_crash_loses_nothing_and_repeats_at_most_what_was_in_flight(
    engine: Engine, database_url: str, ruleset: Ruleset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "outbox"
    settings = Settings(
        database_url=database_url,
        mail_url=f"file://{folder}",
        secret_key="k",
        delivery=DeliverySettings(connections=1, claim_timeout_minutes=1),
    )
    readers = [f"r{i}@example.org" for i in range(10)]
    newsroom(engine, settings, ruleset, readers)
    crashing = CrashingOutbox(folder, crash_at=4)
    monkeypatch.setattr(deliver_module, "open_transport", lambda url, timeout: crashing)
    with pytest.raises(KeyboardInterrupt):
        deliver_queued(engine, settings, ruleset, make_signer(settings, engine))
    assert len(messages(folder)) == 3
    monkeypatch.undo()

    # Started again at once: the rows it was sending are not taken yet (another sender might have them).
    deliver_queued(engine, settings, ruleset, make_signer(settings, engine))
    in_flight = [r for r, s in states(engine).items() if s == "sending"]
    assert len({m["To"] for m in messages(folder)}) == 10 - len(in_flight)
    # After the claim timeout the abandoned rows are sent; nothing is lost.
    with session_scope(engine) as s:
        s.execute(
            update(Delivery)
            .where(Delivery.state == "sending")
            .values(claimed_at=datetime.now(UTC) - timedelta(minutes=5))
        )
    deliver_queued(engine, settings, ruleset, make_signer(settings, engine))
    recipients = [m["To"] for m in messages(folder)]
    assert sorted(set(recipients)) == sorted(readers)
    assert len(recipients) == 10  # the message that was in flight had not gone out, so none is doubled
    assert set(states(engine).values()) == {"sent"}


def test_what_arrives_over_smtp_is_signed_and_inert(
    engine: Engine, database_url: str, ruleset: Ruleset, smtp_server: SmtpServer
) -> None:
    settings = Settings(
        database_url=database_url, mail_url=smtp_server.url, secret_key="k", base_url="https://news.example"
    )
    subscribe(engine, settings, "deep@example.org", ["deepfakes"], "daily", DAY0 - timedelta(days=1), ruleset)
    hostile = rss(
        (
            "Deepfake\r\nBcc: victim@example.org <script>x()</script>",
            "javascript:alert(1)",
            '<img src="https://tracker.example/p.gif"><a href="javascript:x()" onclick="y()">deepfake</a>',
        ),
    )
    ingest(engine, ruleset, hostile, DAY0)
    plan_edition(engine, settings, ruleset, DAY0 + timedelta(hours=1))
    assert deliver_queued(engine, settings, ruleset, make_signer(settings, engine)).sent == 1
    (received,) = smtp_server.sink.received
    message = received.message
    assert received.recipients == ["deep@example.org"] and message["To"] == "deep@example.org"
    assert {part.get_content_type() for part in message.iter_parts()} == {"text/plain", "text/html"}
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" and message["Bcc"] is None
    token = message["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1]
    with session_scope(engine) as s:
        person = subscribers.by_email(s, "deep@example.org")
        assert person is not None
        assert make_signer(settings, engine).read("unsubscribe", token) == person.link_key
    html, text = html_of(message), text_of(message)
    assert mail_problems(html) == []
    for forbidden in ("<script", "javascript:", "onclick", "tracker.example"):
        assert forbidden not in html.lower() and forbidden not in text.lower()


class UnsubscribingSink(SmtpSink):
    """When the first digest arrives, some readers further on in the same claimed batch unsubscribe."""

    def __init__(self, engine: Engine, leaving: list[str]) -> None:
        super().__init__()
        self.engine, self.leaving = engine, leaving

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if not self.received:
            with session_scope(self.engine) as s:
                for email in self.leaving:
                    person = subscribers.by_email(s, email)
                    assert person is not None
                    signup.unsubscribe(s, person, "one-click", datetime.now(UTC))
        return await super().handle_DATA(server, session, envelope)


def test_an_unsubscribe_during_the_send_stops_digests_already_claimed(
    engine: Engine, database_url: str, ruleset: Ruleset, smtp_server: SmtpServer
) -> None:
    settings = Settings(
        database_url=database_url,
        mail_url=smtp_server.url,
        secret_key="k",
        delivery=DeliverySettings(connections=1),
    )
    readers = [f"r{i}@example.org" for i in range(10)]
    newsroom(engine, settings, ruleset, readers)
    smtp_server.controller.handler = smtp_server.sink = UnsubscribingSink(engine, readers[5:])
    report = deliver_queued(engine, settings, ruleset, make_signer(settings, engine))
    # All ten were claimed in one batch before the first went out; the five who left get nothing.
    assert sorted(r.recipients[0] for r in smtp_server.sink.received) == readers[:5]
    assert (report.sent, report.cancelled) == (5, 5)
    assert [states(engine)[r] for r in readers[5:]] == ["cancelled"] * 5

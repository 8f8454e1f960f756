"""Sending to a server that offers PIPELINING (RFC 2920), where a message's data and the next
message's envelope go out in one write, against one that does not: refusals in the middle of a run
are told apart and recorded the same way, every other reader gets exactly one digest, and a reader
who unsubscribes after their envelope was written (before their data) gets nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import Engine

from digest.config import DeliverySettings, Settings
from digest.db.engine import session_scope
from digest.digests.build import plan_edition
from digest.digests.deliver import deliver_queued
from digest.subscribers import signup
from digest.subscribers import store as subscribers
from digest.subscribers.links import make_signer
from digest.tagging.rules import Ruleset
from tests.digests.helpers import ingest, rss, subscribe
from tests.digests.test_delivery import states
from tests.smtpserver import SmtpServer, SmtpSink

DAY0 = datetime(2026, 10, 5, 8, tzinfo=UTC)
NEWS = rss(
    ("Court bans nudify apps", "https://wire.example/1", "<p>Deepfake images of pupils.</p>"),
    # A line of the text part starts with a dot: it must come through as it was.
    ("Watchdog fines app", "https://wire.example/2", "<p>.com sites that make deepfakes.</p>"),
)


class RefusingSink(SmtpSink):
    """Refuses the data of some messages (by recipient) after taking it all in."""

    def __init__(self, refuse_data_for: dict[str, str]) -> None:
        super().__init__()
        self.refuse_data_for = refuse_data_for

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        for address in envelope.rcpt_tos:
            if address in self.refuse_data_for:
                return self.refuse_data_for[address]
        return await super().handle_DATA(server, session, envelope)


class LeavingSink(SmtpSink):
    """When a reader's envelope arrives, that reader unsubscribes (before their data is sent)."""

    def __init__(self, engine: Engine, leaving: str, refuse: bool) -> None:
        super().__init__()
        self.engine, self.leaving, self.refuse_leaving = engine, leaving, refuse

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address == self.leaving:
            with session_scope(self.engine) as s:
                person = subscribers.by_email(s, address)
                assert person is not None
                signup.unsubscribe(s, person, "one-click", datetime.now(UTC))
            if self.refuse_leaving:
                return "550 5.1.1 No such user"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


def newsroom(engine: Engine, settings: Settings, ruleset: Ruleset, readers: list[str]) -> None:
    for reader in readers:
        subscribe(engine, settings, reader, ["deepfakes"], "daily", DAY0 - timedelta(days=1), ruleset)
    ingest(engine, ruleset, NEWS, DAY0)
    plan_edition(engine, settings, ruleset, DAY0 + timedelta(hours=1))


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "step-by-step"])
def test_refusals_in_the_middle_are_recorded_and_everyone_else_gets_one_digest(
    engine: Engine, database_url: str, ruleset: Ruleset, smtp_server: SmtpServer, pipelining: bool
) -> None:
    settings = Settings(
        database_url=database_url,
        mail_url=smtp_server.url,
        secret_key="k",
        delivery=DeliverySettings(connections=3, retry_minutes=1),
    )
    readers = [f"r{i}@example.org" for i in range(12)]
    gone, busy, spam = readers[4], readers[5], readers[8]
    newsroom(engine, settings, ruleset, readers)
    sink = RefusingSink({spam: "554 5.7.1 Message refused as spam"})
    sink.pipelining = pipelining
    sink.refuse = {gone: "550 5.1.1 No such user", busy: "451 4.3.0 Busy"}
    smtp_server.controller.handler = smtp_server.sink = sink
    report = deliver_queued(engine, settings, ruleset, make_signer(settings, engine))
    assert (report.sent, report.failed, report.retrying) == (9, 2, 1)
    delivered = [r.recipients for r in sink.received]
    assert sorted(delivered) == sorted([r] for r in readers if r not in (gone, busy, spam))
    assert sink.connections == 3  # a refusal, of an envelope or of data, keeps the connection
    final = states(engine)
    assert (final[gone], final[busy], final[spam]) == ("failed", "queued", "failed")
    assert {final[r] for r in readers if r not in (gone, busy, spam)} == {"sent"}
    text = sink.received[0].message.get_body(("plain",))
    assert text is not None and "\n.com sites" in text.get_content().replace("\r\n", "\n")


@pytest.mark.parametrize("refused", [False, True], ids=["accepted", "refused"])
def test_an_unsubscribe_after_the_envelope_was_written_sends_nothing(
    engine: Engine, database_url: str, ruleset: Ruleset, smtp_server: SmtpServer, refused: bool
) -> None:
    settings = Settings(
        database_url=database_url, mail_url=smtp_server.url, secret_key="k", delivery=DeliverySettings(connections=1)
    )
    readers = [f"r{i}@example.org" for i in range(6)]
    newsroom(engine, settings, ruleset, readers)
    # r3's envelope goes out with r2's data; r3 leaves before their own data would follow (and
    # the server may refuse their address too: the unsubscribe still wins over the refusal).
    sink = LeavingSink(engine, readers[3], refused)
    sink.pipelining = True
    smtp_server.controller.handler = smtp_server.sink = sink
    report = deliver_queued(engine, settings, ruleset, make_signer(settings, engine))
    assert sorted(r.recipients[0] for r in sink.received) == [r for r in readers if r != readers[3]]
    assert (report.sent, report.cancelled, report.failed) == (5, 1, 0)
    assert states(engine)[readers[3]] == "cancelled"
    with session_scope(engine) as s:
        person = subscribers.by_email(s, readers[3])
        assert person is not None and person.failed_deliveries == 0
    # The connection holding the accepted envelope was closed, and the rest went on a new one.
    assert sink.connections == (1 if refused else 2)

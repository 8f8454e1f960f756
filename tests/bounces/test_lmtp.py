"""``digest bounces serve``: the LMTP server an MTA delivers the bounce domain to, fed by smtplib.LMTP."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from digest.bounces.lmtp import LmtpController, start_lmtp
from digest.bounces.models import BounceEvent
from digest.bounces.process import Processor
from digest.config import BounceSettings, MailSettings, Settings
from digest.db.engine import make_engine, session_scope
from digest.subscribers import store as subscribers
from digest.tagging.rules import Ruleset
from tests.bounces.reports import hard_bounce, soft_bounce
from tests.digests.helpers import subscribe


def deliver(client: smtplib.LMTP, recipients: list[str], raw: bytes) -> dict[str, int]:
    """One LMTP transaction as an MTA runs it; the answer code for each recipient (RCPT's, or DATA's).

    smtplib reads a single answer after DATA; LMTP gives one per accepted recipient (RFC 2033).
    """
    assert client.mail("")[0] == 250
    codes = {r: client.rcpt(r)[0] for r in recipients}
    accepted = [r for r, code in codes.items() if code == 250]
    assert client.docmd("DATA")[0] == 354
    wire = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")  # as an MTA sends it
    client.send(wire + (b"" if wire.endswith(b"\r\n") else b"\r\n") + b".\r\n")
    codes.update({r: client.getreply()[0] for r in accepted})
    return codes


@pytest.fixture
def settings(database_url: str) -> Settings:
    mail = MailSettings(from_address="digest@example.org", bounce_address="bounces@bounce.example.org")
    return Settings(database_url=database_url, secret_key="k", mail=mail, bounces=BounceSettings(soft_limit=5))


@pytest.fixture
def lmtp(engine: Engine, settings: Settings) -> Iterator[LmtpController]:
    controller = start_lmtp(Processor(engine, settings, ["k"]), "127.0.0.1", 0)
    yield controller
    controller.stop()


def test_each_recipient_gets_its_answer_after_the_report_is_stored(
    engine: Engine, settings: Settings, ruleset: Ruleset, lmtp: LmtpController
) -> None:
    for reader in ("gone@example.net", "full@example.net"):
        subscribe(engine, settings, reader, ["deepfakes"], "daily", datetime.now(UTC) - timedelta(days=1), ruleset)
    with smtplib.LMTP("127.0.0.1", lmtp.port) as client:
        client.ehlo_or_helo_if_needed()
        relay = deliver(client, ["bounces@bounce.example.org", "someone@elsewhere.example"], b"Subject: x\n\nx\n")
        assert relay == {"bounces@bounce.example.org": 250, "someone@elsewhere.example": 550}  # not an open relay
        hard = deliver(client, ["bounces@bounce.example.org"], hard_bounce("gone@example.net", "x"))
        assert hard == {"bounces@bounce.example.org": 250}
        # One message for two bounce addresses: one answer, and one report, per recipient.
        two = ["bounces+a@bounce.example.org", "bounces+b@bounce.example.org"]
        assert deliver(client, two, soft_bounce("full@example.net", "x")) == dict.fromkeys(two, 250)
    with session_scope(engine) as s:
        kinds = list(s.scalars(select(BounceEvent.kind).order_by(BounceEvent.id)))
        assert kinds == ["unknown", "hard", "soft", "soft"]
        gone = subscribers.by_email(s, "gone@example.net")
        assert gone is not None and gone.status == "unsubscribed"


def test_a_report_that_cannot_be_stored_is_refused_for_a_retry(tmp_path: Path) -> None:
    away = make_engine(f"sqlite:///{tmp_path}/no-such-folder/digest.db")  # the database is not there
    settings = Settings(database_url=str(away.url), secret_key="k")
    controller = start_lmtp(Processor(away, settings, ["k"]), "127.0.0.1", 0)
    try:
        with smtplib.LMTP("127.0.0.1", controller.port) as client:
            client.ehlo_or_helo_if_needed()
            answer = deliver(client, ["bounces@localhost"], hard_bounce("gone@example.net", "x"))
    finally:
        controller.stop()
        away.dispose()
    assert answer == {"bounces@localhost": 451}  # the MTA keeps it and tries again

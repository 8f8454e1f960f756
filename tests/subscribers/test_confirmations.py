"""Confirmation mails for people an editor added: the form's mail under the form's limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from digest.config import Settings, SignupSettings
from digest.db.engine import session_scope
from digest.mail.transports import Sending
from digest.subscribers import store
from digest.subscribers.confirmations import ConfirmationMailer
from digest.subscribers.importer import import_csv
from digest.subscribers.links import make_signer
from digest.subscribers.signup import request_subscription
from digest.tagging.rules import Ruleset
from tests.mailbox import link, text_of
from tests.smtpserver import SmtpServer

TOPICS = ("ai-misuse", "child-protection", "deepfakes")


def mail_pending(engine: Engine, settings: Settings, ruleset: Ruleset, emails: list[str], now: datetime) -> int:
    names = {t.slug: t.name for t in ruleset.topics}
    with Sending(settings.mail_url) as transport:
        mailer = ConfirmationMailer(engine, settings, make_signer(settings, engine), names, transport)
        mailer.send_to(emails, now)
    return mailer.tally.sent


def test_the_form_does_not_mail_again_right_after_an_import_did(
    engine: Engine, settings: Settings, ruleset: Ruleset, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"mail_url": smtp_server.url, "secret_key": "k"})
    csv = tmp_path / "list.csv"
    csv.write_text("email,topics,frequency,confirmed\nann@example.org,deepfakes,daily,false\n")
    now = datetime.now(UTC)
    report = import_csv(
        engine, settings, csv, TOPICS, on_pending=lambda emails: mail_pending(engine, settings, ruleset, emails, now)
    )
    assert report.pending == 1
    (received,) = smtp_server.sink.received
    assert "Deepfakes" in text_of(received.message) and link(received.message, "confirm").startswith("/confirm/")
    with session_scope(engine) as s:
        # Ann, not having seen the mail yet, signs up through the form: one mail is enough.
        outcome = request_subscription(s, settings, "ann@example.org", ["deepfakes"], "daily", TOPICS, now)
        assert outcome.mail == "none"
    assert len(smtp_server.sink.received) == 1


def test_the_hourly_limit_of_the_form_counts_editor_mails_too(
    engine: Engine, settings: Settings, ruleset: Ruleset, tmp_path: Path
) -> None:
    settings = settings.model_copy(
        update={"mail_url": f"file://{tmp_path / 'outbox'}", "signup": SignupSettings(per_address_per_hour=1)}
    )
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        # A form sign-up an hour ago left a pending person who never got mail (the sender was down).
        outcome = request_subscription(s, settings, "bo@example.org", ["deepfakes"], "weekly", TOPICS, now)
        assert outcome.subscriber is not None
        outcome.subscriber.last_mail_request_at = None
    assert mail_pending(engine, settings, ruleset, ["bo@example.org"], now + timedelta(minutes=5)) == 0
    assert mail_pending(engine, settings, ruleset, ["bo@example.org"], now + timedelta(minutes=61)) == 1
    with session_scope(engine) as s:
        person = store.by_email(s, "bo@example.org")
        assert person is not None and person.last_mail_request_at == now + timedelta(minutes=61)
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1

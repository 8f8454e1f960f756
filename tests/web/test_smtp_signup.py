"""The sign-up mail through a real SMTP server on loopback, parsed as it arrives."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from digest.config import Settings
from digest.tagging.rules import Ruleset
from digest.web.app import create_app
from tests.mailbox import html_of, link, text_of
from tests.smtpserver import SmtpServer


def test_confirmation_arrives_over_smtp_and_its_link_works(
    web_settings: Settings, engine: Engine, ruleset: Ruleset, smtp_server: SmtpServer
) -> None:
    settings = web_settings.model_copy(update={"mail_url": smtp_server.url})
    with TestClient(create_app(settings, engine, ruleset)) as client:
        client.post(
            "/subscribe", data={"email": "smtp.reader@example.org", "topics": ["deepfakes"], "frequency": "weekly"}
        )
        (received,) = smtp_server.sink.received
        assert received.recipients == ["smtp.reader@example.org"]
        message = received.message
        assert message["From"] == f"{settings.mail.from_name} <{settings.mail.from_address}>"
        assert message.get_content_type() == "multipart/alternative"
        assert "Deepfakes" in text_of(message) and "Deepfakes" in html_of(message)
        assert message["Auto-Submitted"] == "auto-generated"
        assert "You are subscribed" in client.get(link(message, "confirm")).text

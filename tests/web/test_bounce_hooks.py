"""Hosted senders' webhooks with real signatures: SES through SNS (RSA, a test certificate served on
loopback), Mailgun (HMAC), Postmark (basic auth). Forged or unsigned calls get 401 and change nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from digest.bounces.models import BounceEvent
from digest.config import BounceSettings, FeedSettings, Settings
from digest.db.engine import session_scope
from digest.subscribers import store as subscribers
from digest.tagging.rules import Ruleset
from digest.web.app import create_app
from tests.digests.helpers import subscribe
from tests.httpserver import FeedServer, Route

TOPIC = "arn:aws:sns:eu-west-1:123456789012:digest-ses"
MAILGUN_KEY = "key-mailgun-signing"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def certificate_pem() -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.eu-west-1.amazonaws.com")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(KEY.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(KEY, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def aws(feed_server: FeedServer) -> FeedServer:
    feed_server.add("/SimpleNotificationService-test.pem", Route(certificate_pem()))
    feed_server.add("/confirm", Route(b"<ConfirmSubscriptionResponse/>"))
    return feed_server


@pytest.fixture
def hooks(database_url: str, engine: Engine, ruleset: Ruleset, aws: FeedServer) -> Iterator[TestClient]:
    settings = Settings(
        database_url=database_url,
        secret_key="k",
        feeds=FeedSettings(allow_private_networks=True),
        bounces=BounceSettings(
            ses_topic_arns=[TOPIC],
            sns_extra_certificate_urls=[f"{aws.base}/"],
            mailgun_signing_key=MAILGUN_KEY,
            postmark_credentials="postmark:hook-secret",
        ),
    )
    for reader in ("gone@example.net", "angry@example.net", "mg@example.net", "pm@example.net"):
        subscribe(engine, settings, reader, ["deepfakes"], "daily", datetime.now(UTC) - timedelta(days=1), ruleset)
    with TestClient(create_app(settings, engine, ruleset)) as client:
        yield client


def sns(aws: FeedServer, kind: str, fields: dict[str, str], version: str = "2") -> dict[str, Any]:
    message = {
        "Type": kind,
        "MessageId": fields.pop("MessageId", "b5a3f8c2-0000-4000-8000-000000000001"),
        "TopicArn": TOPIC,
        "Timestamp": "2026-12-01T07:00:00.000Z",
        "SignatureVersion": version,
        "SigningCertURL": f"{aws.base}/SimpleNotificationService-test.pem",
        **fields,
    }
    names = (
        ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
        if kind == "Notification"
        else ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
    )
    text = "".join(f"{n}\n{message[n]}\n" for n in names if n in message)
    algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()
    message["Signature"] = base64.b64encode(KEY.sign(text.encode(), padding.PKCS1v15(), algorithm)).decode()
    return message


def ses_bounce(address: str, permanent: bool = True) -> str:
    return json.dumps(
        {
            "notificationType": "Bounce",
            "bounce": {
                "bounceType": "Permanent" if permanent else "Transient",
                "bounceSubType": "General",
                "bouncedRecipients": [
                    {"emailAddress": address, "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 user unknown"}
                ],
            },
            "mail": {"source": "bounces@bounce.example.org", "headers": [{"name": "Message-ID", "value": "<x@y>"}]},
        }
    )


def status_of(engine: Engine, address: str) -> str:
    with session_scope(engine) as s:
        person = subscribers.by_email(s, address)
        assert person is not None
        return person.status


def events(engine: Engine) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(BounceEvent)) or 0


def test_ses_subscription_and_notifications_with_a_real_signature(
    hooks: TestClient, aws: FeedServer, engine: Engine
) -> None:
    confirm = sns(
        aws, "SubscriptionConfirmation", {"Message": "confirm", "Token": "t", "SubscribeURL": f"{aws.base}/confirm?x=1"}
    )
    assert hooks.post("/hooks/ses", json=confirm).status_code == 200
    assert len(aws.hits("/confirm")) == 1

    bounce = sns(aws, "Notification", {"Message": ses_bounce("gone@example.net"), "MessageId": "m-1"})
    answer = hooks.post("/hooks/ses", json=bounce)
    assert answer.status_code == 200 and answer.json() == {"result": "hard: suppressed"}
    assert status_of(engine, "gone@example.net") == "unsubscribed"
    again = hooks.post("/hooks/ses", json=bounce)  # SNS retries a delivery it thinks failed
    assert again.json() == {"result": "hard: duplicate"}

    complaint = json.dumps(
        {
            "notificationType": "Complaint",
            "complaint": {
                "complainedRecipients": [{"emailAddress": "angry@example.net"}],
                "complaintFeedbackType": "abuse",
            },
            "mail": {"source": "bounces@bounce.example.org"},
        }
    )
    signed = sns(aws, "Notification", {"Message": complaint, "MessageId": "m-2"}, version="1")
    assert hooks.post("/hooks/ses", json=signed).json() == {"result": "complaint: unsubscribed"}
    assert status_of(engine, "angry@example.net") == "unsubscribed"
    assert events(engine) == 2


def test_forged_ses_calls_are_refused_and_change_nothing(hooks: TestClient, aws: FeedServer, engine: Engine) -> None:
    good = sns(aws, "Notification", {"Message": ses_bounce("mg@example.net"), "MessageId": "m-3"})
    altered = {**good, "Message": ses_bounce("pm@example.net")}
    unsigned = {k: v for k, v in good.items() if k != "Signature"}
    foreign_cert = {**good, "SigningCertURL": "https://sns.evil.example/cert.pem"}
    amazon_lookalike = {**good, "SigningCertURL": "https://sns.eu-west-1.amazonaws.com.evil.example/x.pem"}
    other_topic = {**good, "TopicArn": "arn:aws:sns:eu-west-1:999999999999:other"}
    for forged in (altered, unsigned, foreign_cert, amazon_lookalike, other_topic):
        assert hooks.post("/hooks/ses", json=forged).status_code == 401
    assert events(engine) == 0
    assert status_of(engine, "mg@example.net") == status_of(engine, "pm@example.net") == "confirmed"


def mailgun_payload(key: str, event: dict[str, Any], timestamp: int | None = None) -> dict[str, Any]:
    stamp, token = str(timestamp or int(time.time())), "0123456789abcdef0123456789abcdef0123456789abcdef00"
    signature = hmac.new(key.encode(), (stamp + token).encode(), hashlib.sha256).hexdigest()
    return {"signature": {"timestamp": stamp, "token": token, "signature": signature}, "event-data": event}


def test_mailgun_signatures(hooks: TestClient, engine: Engine) -> None:
    event = {
        "id": "mg-1",
        "event": "failed",
        "severity": "permanent",
        "recipient": "mg@example.net",
        "delivery-status": {"code": 550, "description": "mailbox does not exist"},
        "message": {"headers": {"message-id": "abc@example.org"}},
    }
    assert hooks.post("/hooks/mailgun", json=mailgun_payload("wrong-key", event)).status_code == 401
    stale = mailgun_payload(MAILGUN_KEY, event, timestamp=int(time.time()) - 3600)
    assert hooks.post("/hooks/mailgun", json=stale).status_code == 401  # a replayed old call
    assert hooks.post("/hooks/mailgun", json={"event-data": event}).status_code == 401
    assert events(engine) == 0
    answer = hooks.post("/hooks/mailgun", json=mailgun_payload(MAILGUN_KEY, event))
    assert answer.json() == {"result": "hard: suppressed"}
    assert status_of(engine, "mg@example.net") == "unsubscribed"


def test_postmark_basic_auth(hooks: TestClient, engine: Engine) -> None:
    payload = {"RecordType": "SpamComplaint", "ID": 42, "Email": "pm@example.net"}
    assert hooks.post("/hooks/postmark", json=payload).status_code == 401
    assert hooks.post("/hooks/postmark", json=payload, auth=("postmark", "guess")).status_code == 401
    assert events(engine) == 0 and status_of(engine, "pm@example.net") == "confirmed"
    answer = hooks.post("/hooks/postmark", json=payload, auth=("postmark", "hook-secret"))
    assert answer.json() == {"result": "complaint: unsubscribed"}
    assert status_of(engine, "pm@example.net") == "unsubscribed"


def test_webhooks_not_configured_do_not_exist(client: TestClient) -> None:
    for path in ("/hooks/ses", "/hooks/mailgun", "/hooks/postmark"):
        assert client.post(path, json={}).status_code == 404

"""Hosted senders' webhooks: checking who is calling, and turning their events into verdicts.

- Amazon SES through SNS: the SNS signature (SignatureVersion 1: SHA1, 2: SHA256, RSA PKCS#1 v1.5) is
  checked against the certificate at SigningCertURL, fetched only from https://sns.<region>.amazonaws.com
  (or a URL prefix the operator trusts: ``bounces.sns_extra_certificate_urls``), and only messages of
  the topics in ``bounces.ses_topic_arns`` are accepted. A SubscriptionConfirmation is confirmed by
  visiting its SubscribeURL (same host rule).
- Mailgun: HMAC-SHA256 of timestamp and token with the webhook signing key, not older than 15 minutes.
- Postmark: HTTP basic auth with the credentials set in the webhook's URL.

Anything unsigned or wrongly signed raises ``Refused``; nothing is stored for it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from digest.bounces.act import Clues, unique
from digest.bounces.classify import Verdict
from digest.config import BounceSettings

SNS_CERT_URL = re.compile(r"^https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[A-Za-z0-9._/-]+\.pem$")
SNS_SUBSCRIBE_URL = re.compile(r"^https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/\?")
MAILGUN_MAX_AGE = 15 * 60
_NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_SUBSCRIPTION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")


class Refused(Exception):
    """Not signed, wrongly signed, or not from a source this service accepts (answered 401)."""


@dataclass(frozen=True, slots=True)
class Event:
    verdict: Verdict
    clues: Clues
    key: str  # the sender's own id of the event: a retried webhook is processed once


# --- Amazon SES through SNS -------------------------------------------------------------------------


def verify_sns(settings: BounceSettings, message: dict[str, Any]) -> None:
    """Raise ``Refused`` unless the SNS message is signed by AWS for one of the accepted topics."""
    if message.get("TopicArn") not in settings.ses_topic_arns:
        raise Refused("not an accepted SNS topic")
    version = str(message.get("SignatureVersion", ""))
    algorithm = {"1": hashes.SHA1(), "2": hashes.SHA256()}.get(version)
    if algorithm is None:
        raise Refused("unknown SNS signature version")
    url = str(message.get("SigningCertURL", ""))
    if not _trusted(settings, url, SNS_CERT_URL):
        raise Refused("certificate not from Amazon SNS")
    fields = _NOTIFICATION_FIELDS if message.get("Type") == "Notification" else _SUBSCRIPTION_FIELDS
    text = "".join(f"{name}\n{message[name]}\n" for name in fields if message.get(name) is not None)
    try:
        signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
    except binascii.Error:
        raise Refused("malformed SNS signature") from None
    key = _certificate_key(url)
    try:
        key.verify(signature, text.encode(), padding.PKCS1v15(), algorithm)
    except InvalidSignature:
        raise Refused("wrong SNS signature") from None


def confirm_subscription(settings: BounceSettings, message: dict[str, Any]) -> None:
    """Visit the SubscribeURL of a (verified) SubscriptionConfirmation, as SNS asks."""
    url = str(message.get("SubscribeURL", ""))
    if not _trusted(settings, url, SNS_SUBSCRIBE_URL):
        raise Refused("subscription URL not on Amazon SNS")
    httpx.get(url, timeout=10, follow_redirects=False).raise_for_status()


def ses_event(message: dict[str, Any]) -> Event | None:
    """The verdict of an SES notification (Bounce, Complaint); None for the others (Delivery...)."""
    try:
        body = json.loads(str(message.get("Message", "")))
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    kind = body.get("notificationType") or body.get("eventType")
    mail = body.get("mail") or {}
    headers = {str(h.get("name", "")).lower(): str(h.get("value", "")) for h in mail.get("headers") or []}
    message_id = headers.get("message-id", "")
    return_paths = unique([str(mail.get("source", "")), headers.get("return-path", "")])
    if kind == "Bounce":
        bounce = body.get("bounce") or {}
        recipients = bounce.get("bouncedRecipients") or [{}]
        first = recipients[0]
        hard = bounce.get("bounceType") == "Permanent"
        verdict = Verdict(
            "hard" if hard else "soft",
            unique(str(r.get("emailAddress", "")) for r in recipients),
            str(first.get("status", ""))[:16],
            str(first.get("diagnosticCode") or f"{bounce.get('bounceType')}/{bounce.get('bounceSubType')}"),
        )
    elif kind == "Complaint":
        complaint = body.get("complaint") or {}
        recipients = complaint.get("complainedRecipients") or []
        reason = f"complaint: {complaint.get('complaintFeedbackType') or 'abuse'}"
        verdict = Verdict("complaint", unique(str(r.get("emailAddress", "")) for r in recipients), "", reason)
    else:
        return None
    clues = Clues(return_paths, message_id, verdict.recipients)
    return Event(verdict, clues, str(message.get("MessageId", "")))


def _trusted(settings: BounceSettings, url: str, pattern: re.Pattern[str]) -> bool:
    if pattern.match(url):
        return True
    return any(url.startswith(prefix) for prefix in settings.sns_extra_certificate_urls if prefix)


@functools.lru_cache(maxsize=16)
def _certificate_key(url: str) -> rsa.RSAPublicKey:
    """The public key of an SNS signing certificate (kept: SNS signs with few certificates)."""
    try:
        response = httpx.get(url, timeout=10, follow_redirects=False)
        response.raise_for_status()
        certificate = x509.load_pem_x509_certificate(response.content)
    except (httpx.HTTPError, ValueError):
        raise Refused("SNS certificate could not be fetched") from None
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise Refused("SNS certificate without an RSA key")
    return key


# --- Mailgun ----------------------------------------------------------------------------------------


def verify_mailgun(settings: BounceSettings, payload: dict[str, Any], now: float | None = None) -> None:
    signing_key = settings.mailgun_signing_key
    signature = payload.get("signature") or {}
    timestamp, token = str(signature.get("timestamp", "")), str(signature.get("token", ""))
    if not signing_key or not timestamp.isdigit() or not token:
        raise Refused("unsigned Mailgun call")
    expected = hmac.new(signing_key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, str(signature.get("signature", ""))):
        raise Refused("wrong Mailgun signature")
    if abs((now or time.time()) - int(timestamp)) > MAILGUN_MAX_AGE:
        raise Refused("Mailgun signature too old")


def mailgun_event(payload: dict[str, Any]) -> Event | None:
    data = payload.get("event-data") or {}
    event = data.get("event")
    recipient = str(data.get("recipient", ""))
    status = data.get("delivery-status") or {}
    message_id = str((data.get("message") or {}).get("headers", {}).get("message-id", ""))
    if message_id and not message_id.startswith("<"):
        message_id = f"<{message_id}>"
    if event == "failed":
        hard = data.get("severity") == "permanent"
        reason = str(status.get("description") or status.get("message") or data.get("reason", ""))
        verdict = Verdict("hard" if hard else "soft", (recipient,), str(status.get("code", ""))[:16], reason)
    elif event == "complained":
        verdict = Verdict("complaint", (recipient,), "", "complaint reported to Mailgun")
    else:
        return None
    sender = str((data.get("envelope") or {}).get("sender", ""))
    return Event(verdict, Clues(unique([sender]), message_id, (recipient,)), str(data.get("id", "")))


# --- Postmark ---------------------------------------------------------------------------------------


def verify_postmark(settings: BounceSettings, authorization: str) -> None:
    expected = settings.postmark_credentials
    scheme, _, value = authorization.partition(" ")
    if not expected or scheme.lower() != "basic":
        raise Refused("no Postmark credentials")
    try:
        given = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise Refused("malformed credentials") from None
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Refused("wrong Postmark credentials")


def postmark_event(payload: dict[str, Any]) -> Event | None:
    record = payload.get("RecordType")
    recipient = str(payload.get("Email", ""))
    if record == "Bounce":
        kind = {"HardBounce": "hard", "BadEmailAddress": "hard", "SoftBounce": "soft", "Transient": "soft"}.get(
            str(payload.get("Type", "")), "unknown"
        )
        verdict = Verdict(kind, (recipient,), "", str(payload.get("Details") or payload.get("Description") or ""))
    elif record == "SpamComplaint":
        verdict = Verdict("complaint", (recipient,), "", "spam complaint reported to Postmark")
    else:
        return None
    return Event(verdict, Clues((), "", (recipient,)), str(payload.get("ID", "")))

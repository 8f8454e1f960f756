"""Reading a report that came back: what it says, without deciding what it means (see classify).

A delivery status notification (RFC 3464) is read from its ``message/delivery-status`` part; the
non-standard bounces real servers send (qmail, Exim, Yahoo, Exchange, old Postfix...) by GNU Mailman's
detectors (``flufl.bounce``); complaint reports (ARF, RFC 5965) from their ``message/feedback-report``
part. The returned original (a ``message/rfc822`` or ``text/rfc822-headers`` part, or the quoted
headers of a plain-text bounce) gives the Return-Path, Message-ID and recipient it was sent with.
"""

from __future__ import annotations

import email
import email.policy
import logging
import re
from dataclasses import dataclass, field
from email.message import Message
from email.utils import getaddresses

from flufl.bounce import all_failures

MAX_PARTS = 50  # a report is a few parts; more is junk, and is not walked further

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_HEADER_LINE = re.compile(rb"^(Return-Path|Message-ID|To):[ \t]*(.+?)\r?$", re.IGNORECASE | re.MULTILINE)
_AUTO_SUBJECT = re.compile(
    r"^(auto(matic)?[ -]?(reply|response|antwort)|out of (the )?office|vacation|abwesenheit|absence|"
    r"r[ée]ponse automatique|away from)",
    re.IGNORECASE,
)

# flufl.bounce logs every detector it tries, and a detector tripping over a malformed message with its
# traceback; the message is simply read as having no failures (below), which operators need not see.
logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)


@dataclass(frozen=True, slots=True)
class RecipientStatus:
    """One recipient's entry in a DSN: its address, action (failed, delayed...), status and diagnostic."""

    address: str
    action: str
    status: str
    diagnostic: str


@dataclass(slots=True)
class Report:
    """The facts of one report, as found in it."""

    subject: str = ""
    sender: str = ""
    envelope_recipients: list[str] = field(default_factory=list)  # where the report was addressed to
    auto_reply: bool = False
    feedback_type: str | None = None  # set for an ARF complaint report
    statuses: list[RecipientStatus] = field(default_factory=list)  # from a DSN
    permanent: list[str] = field(default_factory=list)  # from Mailman's detectors
    temporary: list[str] = field(default_factory=list)
    original_return_path: str = ""
    original_message_id: str = ""
    original_recipients: list[str] = field(default_factory=list)
    text: str = ""  # the human-readable part, for status codes a non-standard bounce writes in words


def parse_report(raw: bytes, envelope_recipients: list[str] | None = None) -> Report:
    """The facts of a report; never raises on a malformed one (it just yields fewer facts)."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    report = Report(
        subject=_header(message, "Subject"),
        sender=_header(message, "From"),
        envelope_recipients=list(envelope_recipients or []) + _addresses(message, "Delivered-To", "X-Original-To"),
    )
    report.envelope_recipients += _addresses(message, "To", "Envelope-To")
    report.auto_reply = _is_auto_reply(message, report.subject)
    parts = list(message.walk())[:MAX_PARTS]
    for part in parts:
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            report.statuses += _delivery_status(part)
        elif kind == "message/feedback-report":
            fields = _fields(part)
            report.feedback_type = fields.get("feedback-type", "abuse").lower()
            report.original_recipients += _bare(fields.get("original-rcpt-to", ""))
        elif kind in ("message/rfc822", "message/rfc822-headers", "text/rfc822-headers"):
            _original(part, report)
        elif kind == "text/plain" and not report.text:
            report.text = _payload_text(part)[:20000]
    if not report.original_message_id or not report.original_return_path:
        _quoted_headers(raw, report)
    if report.feedback_type is None and not report.statuses:
        try:
            temporary, permanent = all_failures(message)
        except Exception:  # a detector tripping over a malformed message: it just found nothing
            temporary, permanent = frozenset(), frozenset()
        report.temporary = sorted(_text(a) for a in temporary)
        report.permanent = sorted(_text(a) for a in permanent)
    return report


def _header(message: Message, name: str) -> str:
    value = message.get(name)
    if value is None:
        return ""
    try:
        text = str(email.header.make_header(email.header.decode_header(str(value))))
    except (ValueError, LookupError, email.errors.HeaderParseError):
        text = str(value)
    return " ".join(text.split())[:500]


def _addresses(message: Message, *names: str) -> list[str]:
    values = [str(v) for name in names for v in (message.get_all(name) or [])]
    return [address for _name, address in getaddresses(values) if "@" in address]


def _bare(value: str) -> list[str]:
    return [address for _name, address in getaddresses([value]) if "@" in address]


def _is_auto_reply(message: Message, subject: str) -> bool:
    auto = _header(message, "Auto-Submitted").lower()
    if auto.startswith("auto-replied"):
        return True
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return True
    # Exchange sets X-Auto-Response-Suppress on its own bounces too: only with an out-of-office subject.
    if message.get("X-Auto-Response-Suppress") and _AUTO_SUBJECT.match(subject):
        return True
    precedence = _header(message, "Precedence").lower()
    return precedence == "auto_reply" or (
        bool(_AUTO_SUBJECT.match(subject)) and message.get_content_type() != "multipart/report"
    )


def _fields(part: Message) -> dict[str, str]:
    """The ``Name: value`` fields of a report part (the first value of each name)."""
    text = _payload_text(part)
    fields: dict[str, str] = {}
    for block in _blocks(text):
        for name, value in block.items():
            fields.setdefault(name, value)
    return fields


def _blocks(text: str) -> list[dict[str, str]]:
    """A delivery-status body: groups of fields separated by blank lines, continuation lines joined."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last = ""
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            if current:
                blocks.append(current)
            current, last = {}, ""
        elif line[0] in " \t" and last:
            current[last] += " " + line.strip()
        elif ":" in line:
            name, _, value = line.partition(":")
            last = name.strip().lower()
            current.setdefault(last, value.strip())
    if current:
        blocks.append(current)
    return blocks


def _payload_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload.decode(part.get_content_charset() or "utf-8", "replace")
    # message/* parts are parsed into sub-messages: read them back as text.
    inner = part.get_payload()
    if isinstance(inner, list):
        return "\n\n".join(m.as_string() if isinstance(m, Message) else str(m) for m in inner)
    return str(inner or "")


def _delivery_status(part: Message) -> list[RecipientStatus]:
    found = []
    for block in _blocks(_payload_text(part)):
        address = block.get("final-recipient") or block.get("original-recipient") or ""
        if not address:
            continue
        status = _STATUS.search(block.get("status", ""))
        found.append(
            RecipientStatus(
                address=address.partition(";")[2].strip() or address.strip(),
                action=block.get("action", "").lower(),
                status=status.group(0) if status else "",
                diagnostic=block.get("diagnostic-code", "").partition(";")[2].strip()[:500],
            )
        )
    return found


def _original(part: Message, report: Report) -> None:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload and isinstance(payload[0], Message) else None
    if inner is None:  # text/rfc822-headers: the headers as text
        inner = email.message_from_string(_payload_text(part), policy=email.policy.compat32)
    if not report.original_return_path:
        report.original_return_path = (_bare(str(inner.get("Return-Path", "") or "")) or [""])[0]
    report.original_message_id = report.original_message_id or str(inner.get("Message-ID", "") or "").strip()
    report.original_recipients += _addresses(inner, "To")


def _quoted_headers(raw: bytes, report: Report) -> None:
    """Headers of the original quoted as text in a plain bounce (qmail, Exim, Yahoo do this): looked for
    in the body only, since the report's own headers name the report, not the original."""
    body = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[-1][:200_000]
    for match in _HEADER_LINE.finditer(body):
        name, value = match.group(1).decode().lower(), match.group(2).decode("utf-8", "replace").strip()
        if name == "return-path" and not report.original_return_path:
            report.original_return_path = (_bare(value) or [""])[0]
        elif name == "message-id" and not report.original_message_id and value.startswith("<"):
            report.original_message_id = value
        elif name == "to":
            report.original_recipients += [a for a in _bare(value) if a not in report.original_recipients]


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value

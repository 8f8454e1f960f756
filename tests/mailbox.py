"""Reading what the service sent: .eml files in a file outbox, parsed with the email package."""

from __future__ import annotations

import email
import re
from email import policy
from email.message import EmailMessage
from pathlib import Path

LINK = re.compile(r"https?://[^\s\"'<>]+")


def read(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def messages(outbox: Path) -> list[EmailMessage]:
    """Every message in the outbox, oldest first."""
    files = sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns) if outbox.exists() else []
    return [read(p) for p in files]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def link(message: EmailMessage, kind: str) -> str:
    """The path of the first link of a kind (/confirm/, /preferences/, /unsubscribe/) in the text part."""
    for url in LINK.findall(text_of(message)):
        match = re.match(r"https?://[^/]+(/" + kind + r"/\S+)", url)
        if match:
            return match.group(1)
    raise AssertionError(f"no {kind} link in: {text_of(message)}")

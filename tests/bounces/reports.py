"""Bounce and complaint reports for a given delivery, in the formats real servers send (see corpus/)."""

from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"


def _from_corpus(name: str, recipient: str, return_path: str, old_recipient: str, old_return_path: str) -> bytes:
    raw = (CORPUS / name).read_bytes()
    return raw.replace(old_return_path.encode(), return_path.encode()).replace(
        old_recipient.encode(), recipient.encode()
    )


def hard_bounce(recipient: str, return_path: str) -> bytes:
    """Postfix: 550 5.1.1 user unknown, sent to the envelope sender of the digest."""
    return _from_corpus(
        "postfix-user-unknown.eml",
        recipient,
        return_path,
        "gone@example.net",
        "bounces+d1k-0123456789abcdef@bounce.example.org",
    )


def soft_bounce(recipient: str, return_path: str, tag: str = "") -> bytes:
    """Postfix: 452 4.2.2 mailbox full. ``tag`` makes two of them different reports."""
    raw = _from_corpus(
        "postfix-delayed-mailbox-full.eml",
        recipient,
        return_path,
        "full@example.net",
        "bounces+d1k-0123456789abcdef@bounce.example.org",
    )
    return raw.replace(b"5ABC34@mail", f"5ABC34{tag}@mail".encode())


def complaint(recipient: str, return_path: str, message_id: str) -> bytes:
    """A Yahoo ARF abuse report quoting the digest (its Return-Path and Message-ID)."""
    raw = _from_corpus(
        "arf-yahoo-complaint.eml",
        recipient,
        return_path,
        "annoyed@yahoo.com",
        "bounces+dak-0123456789abcdef@bounce.example.org",
    )
    return raw.replace(b"<daily.2026-11-30.aaaa1111aaaa1111aaaa1111aaaa1111@example.org>", message_id.encode())

"""Every message of the corpus (written from what Postfix, Exim, qmail, Exchange, Gmail, Yahoo and
Sendmail send, complaint reports, auto-replies and broken ones) is classified as expected."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.bounces.classify import classify_report
from digest.bounces.parse import parse_report

CORPUS = Path(__file__).parent / "corpus"

# file -> (kind, the address it names as failed or complaining, the original Message-ID it quotes)
EXPECTED: dict[str, tuple[str, str | None, str | None]] = {
    "postfix-user-unknown.eml": (
        "hard",
        "gone@example.net",
        "<daily.2026-11-30.0f1e2d3c4b5a69788796a5b4c3d2e1f0@example.org>",
    ),
    "postfix-delayed-mailbox-full.eml": ("soft", "full@example.net", None),
    "exim-failed.eml": (
        "hard",
        "nobody@example.com",
        "<daily.2026-11-30.aaaabbbbccccddddeeeeffff00001111@example.org>",
    ),
    "qmail-failure.eml": (
        "hard",
        "left@example.info",
        "<weekly.2026-W49.9999888877776666555544443333aaaa@example.org>",
    ),
    "office365-ndr.eml": (
        "hard",
        "former.employee@contoso.com",
        "<daily.2026-11-30.0123012301230123012301230123abcd@example.org>",
    ),
    "gmail-no-such-user.eml": (
        "hard",
        "typo.reader@gmail.com",
        "<daily.2026-11-30.5555aaaa5555aaaa5555aaaa5555aaaa@example.org>",
    ),
    "gmail-over-quota.eml": ("soft", "full.reader@gmail.com", None),
    "yahoo-legacy.eml": (
        "hard",
        "closed.account@yahoo.com",
        "<daily.2026-11-30.7777bbbb7777bbbb7777bbbb7777bbbb@example.org>",
    ),
    "sendmail-user-unknown.eml": (
        "hard",
        "graduated@example.edu",
        "<weekly.2026-W49.8888cccc8888cccc8888cccc8888cccc@example.org>",
    ),
    "policy-blocked-5.7.1.eml": ("soft", "reader@strict.example", None),
    "arf-yahoo-complaint.eml": (
        "complaint",
        "annoyed@yahoo.com",
        "<daily.2026-11-30.aaaa1111aaaa1111aaaa1111aaaa1111@example.org>",
    ),
    "arf-microsoft-jmrp.eml": (
        "complaint",
        "fed.up@outlook.com",
        "<weekly.2026-W49.bbbb2222bbbb2222bbbb2222bbbb2222@example.org>",
    ),
    "vacation-auto-reply.eml": ("ignored", None, None),
    "exchange-automatic-reply.eml": ("ignored", None, None),
    "delivered-notice.eml": ("ignored", None, None),
    "malformed-truncated.eml": ("unknown", None, None),
    "malformed-binary.eml": ("unknown", None, None),
    "not-a-bounce.eml": ("unknown", None, None),
}


def test_the_corpus_is_exactly_the_expected_list() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_message_is_classified_as_expected(name: str) -> None:
    kind, address, message_id = EXPECTED[name]
    report = parse_report((CORPUS / name).read_bytes())
    verdict = classify_report(report)
    assert verdict.kind == kind, (verdict, report)
    if address is not None:
        assert address in [a.lower() for a in (*verdict.recipients, *report.original_recipients)]
    if message_id is not None:
        assert report.original_message_id == message_id
    if kind in ("hard", "soft"):
        assert verdict.reason  # editors see why, in the server's own words


@given(st.binary(max_size=2000))
def test_any_bytes_are_read_without_an_error(raw: bytes) -> None:
    verdict = classify_report(parse_report(raw))
    assert verdict.kind in ("hard", "soft", "complaint", "ignored", "unknown")


@given(st.text(max_size=300))
def test_any_text_in_a_delivery_status_part_is_read(body: str) -> None:
    raw = (
        "From: MAILER-DAEMON@x.example\nContent-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"
        f"--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\n{body}\n--B--\n"
    ).encode("utf-8", "surrogateescape")
    assert classify_report(parse_report(raw)).kind in ("hard", "soft", "complaint", "ignored", "unknown")

"""Deciding what a report means: a hard bounce, a soft bounce, a complaint, nothing (ignored), or unknown.

Pure: a parsed ``Report`` in, a ``Verdict`` out. The DSN status code decides when there is one
(RFC 3463: 5.x.x permanent, 4.x.x temporary), except where real servers use a permanent code for a
passing condition: a full mailbox (5.2.2) and policy or reputation refusals (5.7.x, "blocked as spam")
say nothing about the address, so they count as soft.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from digest.bounces.parse import Report

_SOFT_PERMANENT = re.compile(r"^5\.(2\.[0-9]+|3\.4|4\.[0-9]+|7\.[0-9]+)$")
_BOUNCE_LOOK = re.compile(
    r"(undeliver|delivery (status notification|failure|has failed)|returned mail|failure notice|"
    r"mail delivery (failed|subsystem|system)|non[- ]?delivery|could not be delivered|nondeliverable)",
    re.IGNORECASE,
)
_DAEMON = re.compile(r"(mailer-daemon|postmaster|mail delivery)", re.IGNORECASE)
_TEXT_STATUS = re.compile(r"\b([45])\.(\d{1,3})\.(\d{1,3})\b")
_TEMPORARY_WORDS = re.compile(
    r"(mailbox (is )?full|over quota|quota exceeded|try again later|temporar|deferred|delayed)", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: str  # hard, soft, complaint, ignored, unknown
    recipients: tuple[str, ...]  # the addresses the report says failed (or complained)
    status: str = ""
    reason: str = ""


def classify_report(report: Report) -> Verdict:
    """What a report means for the addresses it names."""
    if report.feedback_type is not None:
        if report.feedback_type == "not-spam":
            return Verdict("ignored", tuple(report.original_recipients), reason="marked as not spam")
        return Verdict(
            "complaint", tuple(report.original_recipients), reason=f"feedback report: {report.feedback_type}"
        )
    # Before the auto-reply test: Postfix, Exim and Gmail mark their bounces "Auto-Submitted: auto-replied".
    failed = [s for s in report.statuses if s.action in ("failed", "delayed", "")]
    if failed:
        worst = failed[0]
        kind = _kind_of(worst.status, worst.action, worst.diagnostic)
        return Verdict(kind, tuple(s.address for s in failed), worst.status, worst.diagnostic or worst.action)
    if report.statuses:  # delivered, relayed, expanded: a success notice
        return Verdict("ignored", (), reason=f"delivery notice: {report.statuses[0].action}")
    text_status = _TEXT_STATUS.search(report.text)
    status = text_status.group(0) if text_status else ""
    reason = _first_line_with(report.text, status) if status else ""
    named = report.permanent or report.temporary
    if named:
        reason = reason or _words_after(report.text, named[0])
        kind = "soft" if not report.permanent else _kind_of(status, "failed", report.text) if status else "hard"
        return Verdict(kind, tuple(named), status, reason)
    if report.auto_reply:
        return Verdict("ignored", (), reason="auto-reply")
    if _BOUNCE_LOOK.search(report.subject) or _DAEMON.search(report.sender):
        return Verdict("unknown", tuple(report.original_recipients), status, reason or "unreadable bounce")
    return Verdict("unknown", (), reason="not a bounce")


def _kind_of(status: str, action: str, diagnostic: str) -> str:
    if action == "delayed" or status.startswith("4"):
        return "soft"
    if _SOFT_PERMANENT.match(status):
        return "soft"
    if status.startswith("5"):
        return "hard"
    return "soft" if _TEMPORARY_WORDS.search(diagnostic) else "hard"


def _words_after(text: str, address: str) -> str:
    """What a plain-text bounce says after naming the address: its reason, as the server wrote it."""
    at = text.lower().find(address.lower())
    if at < 0:
        return "bounced (no reason given)"
    paragraph = text[at + len(address) :].lstrip(">: \r\n").replace("\r\n", "\n").split("\n\n")[0]
    words = " ".join(paragraph.split())
    return words[:300] or "bounced (no reason given)"


def _first_line_with(text: str, needle: str) -> str:
    for line in text.splitlines():
        if needle in line:
            return " ".join(line.split())[:300]
    return ""

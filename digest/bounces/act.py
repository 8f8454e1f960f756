"""Acting on a classified report: tie it to its delivery, record it once, and do what its kind asks.

- hard bounce: the address is suppressed at once, as by an unsubscription, with the reason recorded in
  the consent log;
- soft bounce: counted; ``bounces.soft_limit`` of them within ``bounces.window_days``, not reset by a
  successful delivery in between, suppress the address;
- complaint: the reader is unsubscribed at once and the complaint recorded;
- auto-replies and unknown reports are only stored (for editors, for ``bounces.keep_days``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from digest.bounces import store
from digest.bounces.classify import Verdict
from digest.bounces.store import Tie
from digest.config import BounceSettings
from digest.mail.message import header_text
from digest.mail.return_path import ReturnPath
from digest.subscribers import signup
from digest.subscribers import store as subscribers
from digest.subscribers.privacy import InvalidEmail, normalise_email

log = logging.getLogger(__name__)
MAX_ORIGINAL = 512 * 1024  # bytes of a report kept for editors; a bounce quoting a whole digest is cut


@dataclass(frozen=True, slots=True)
class Clues:
    """What can tie a report to a delivery, strongest first."""

    return_paths: tuple[str, ...] = ()  # the report's envelope recipients, the original's Return-Path
    message_id: str = ""  # the original's Message-ID
    recipients: tuple[str, ...] = ()  # the addresses the report names


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: str
    action: str  # suppressed, counted, unsubscribed, none, duplicate
    tied_by: str


def tie_report(session: Session, return_path: ReturnPath, clues: Clues) -> Tie:
    """The delivery a report is about: by its VERP return path, else its Message-ID, else its recipient."""
    for address in clues.return_paths:
        delivery_id = return_path.delivery_of(address)
        found = store.delivery(session, delivery_id) if delivery_id is not None else None
        if found is not None:
            return Tie(found.subscriber_id, found.delivery_id, "return-path")
    if clues.message_id:
        found = store.delivery_by_message_id(session, clues.message_id.strip())
        if found is not None:
            return Tie(found.subscriber_id, found.delivery_id, "message-id")
    for address in clues.recipients:
        try:
            person = subscribers.by_email(session, normalise_email(address))
        except InvalidEmail:
            continue
        if person is not None:
            return Tie(person.id, store.latest_sent(session, person.id), "recipient")
    return Tie(None, None, "")


def act_on_report(
    session: Session,
    settings: BounceSettings,
    return_path: ReturnPath,
    verdict: Verdict,
    clues: Clues,
    *,
    report_key: str,
    source: str,
    original: bytes | None,
    now: datetime,
) -> Outcome:
    """Record the report (once: a key seen before changes nothing) and act on it, in the caller's transaction."""
    tie = tie_report(session, return_path, clues)
    event_id = store.record(
        session,
        {
            "report_key": report_key,
            "subscriber_id": tie.subscriber_id,
            "delivery_id": tie.delivery_id,
            "kind": verdict.kind,
            "source": source,
            "status": verdict.status[:16],
            "reason": header_text(verdict.reason, limit=300),
            "action": "none",
            "tied_by": tie.by,
            "received_at": now,
            "original": original[:MAX_ORIGINAL] if original is not None else None,
        },
    )
    if event_id is None:
        return Outcome(verdict.kind, "duplicate", tie.by)
    action = _act(session, settings, verdict, tie, now)
    if action != "none":
        store.set_action(session, event_id, action)
    log.info("%s report from %s: %s (tied by %s)", verdict.kind, source, action, tie.by or "nothing")
    return Outcome(verdict.kind, action, tie.by)


def _act(session: Session, settings: BounceSettings, verdict: Verdict, tie: Tie, now: datetime) -> str:
    if tie.subscriber_id is None or verdict.kind not in ("hard", "soft", "complaint"):
        return "none"
    person = subscribers.by_id(session, tie.subscriber_id)
    if person is None:
        return "none"
    why = _why(verdict)
    if verdict.kind == "complaint":
        signup.unsubscribe(session, person, "complaint", now, reason="complained", detail=why)
        return "unsubscribed"
    if verdict.kind == "hard":
        signup.unsubscribe(session, person, "bounce", now, reason="bounced", detail=f"hard bounce: {why}")
        return "suppressed"
    since = now - timedelta(days=settings.window_days)
    counted = store.soft_bounces_counted(session, person.id, since, tie.delivery_id)
    if counted >= settings.soft_limit:
        detail = f"{counted} soft bounces within {settings.window_days} days, the last: {why}"
        signup.unsubscribe(session, person, "bounce", now, reason="bounced", detail=detail)
        return "suppressed"
    return "counted"


def _why(verdict: Verdict) -> str:
    return header_text(" ".join(p for p in (verdict.status, verdict.reason) if p) or verdict.kind, limit=200)


def unique(addresses: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a.strip() for a in addresses if a and a.strip()))

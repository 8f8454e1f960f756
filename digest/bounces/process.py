"""The one processor every source feeds: a raw report (or a hosted sender's event) in, its outcome out.

``process_message`` parses, classifies, ties and acts in one write transaction, and the report is stored
before the transaction commits: a source that answers only after this returns (LMTP's 250, an IMAP
message moved away) never loses a report. Each report is acted on once, however often it is processed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from digest.bounces import store
from digest.bounces.act import Clues, Outcome, act_on_report, unique
from digest.bounces.classify import Verdict, classify_report
from digest.bounces.parse import parse_report
from digest.config import Settings
from digest.db.engine import session_scope
from digest.mail.return_path import ReturnPath


class Processor:
    """What processing needs, made once per command or server: settings and the return-path keys."""

    def __init__(self, engine: Engine, settings: Settings, secrets: Sequence[str]) -> None:
        self.engine = engine
        self.settings = settings
        self.return_path = ReturnPath(settings.mail.bounce_address, settings.mail.from_address, secrets)

    def process_message(self, raw: bytes, source: str, envelope_recipients: Sequence[str] = ()) -> Outcome:
        """One report as it came (a whole message); ``envelope_recipients``: the RCPT TO it came with."""
        report = parse_report(raw, list(envelope_recipients))
        verdict = classify_report(report)
        clues = Clues(
            return_paths=unique([*report.envelope_recipients, report.original_return_path]),
            message_id=report.original_message_id,
            recipients=unique([*verdict.recipients, *report.original_recipients]),
        )
        return self.record(verdict, clues, report_key(raw, envelope_recipients), source, raw)

    def process_event(self, verdict: Verdict, clues: Clues, event_key: str, source: str, original: bytes) -> Outcome:
        """One hosted sender's event (already classified by its sender); ``event_key``: its own id."""
        key = hashlib.sha256(f"{source}:{event_key}".encode()).hexdigest()
        return self.record(verdict, clues, key, source, original)

    def record(self, verdict: Verdict, clues: Clues, key: str, source: str, original: bytes) -> Outcome:
        now = datetime.now(UTC)
        with session_scope(self.engine) as session:
            return act_on_report(
                session,
                self.settings.bounces,
                self.return_path,
                verdict,
                clues,
                report_key=key,
                source=source,
                original=original,
                now=now,
            )

    def seen(self, raw: bytes) -> bool:
        """Whether this exact report was processed before (an IMAP fetcher skips it)."""
        with session_scope(self.engine, read_only=True) as session:
            return store.is_recorded(session, report_key(raw))


def report_key(raw: bytes, envelope_recipients: Sequence[str] = ()) -> str:
    """A report's identity: its bytes, and the recipients it came for (one LMTP message, two addresses)."""
    return hashlib.sha256(raw + b"\0" + ",".join(envelope_recipients).lower().encode()).hexdigest()


def purge_originals(engine: Engine, settings: Settings, now: datetime | None = None) -> int:
    """Erase the originals older than ``bounces.keep_days``; returns how many."""
    before = (now or datetime.now(UTC)) - timedelta(days=settings.bounces.keep_days)
    with session_scope(engine) as session:
        return store.purge_originals(session, before)

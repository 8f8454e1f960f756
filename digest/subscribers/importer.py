"""Adding subscribers for editors: one by hand, or many from a CSV file (ours, or listmonk's export).

A "confirmed" row records the editor's claim of consent as its source; other rows are pending until
the person confirms. Suppressed addresses (unsubscribed or erased) are never added; bad rows are
reported by line number and the others imported; rows already on the list are counted and left as
they are. The file is streamed in batches, each one transaction of a few bulk statements, so an
import that is killed and started again ends with every row in exactly once.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from digest.config import Settings
from digest.db.engine import session_scope
from digest.subscribers import bulk_store, store
from digest.subscribers.csvfile import UTF8, Encoding, detect_encoding, open_text
from digest.subscribers.import_rows import Row, read_rows
from digest.subscribers.privacy import address_hasher, is_suppressed, normalise_email
from digest.subscribers.signup import check_choice

BATCH = 5000
MAX_DETAILS = 1000  # lines kept per kind of report, so a million bad rows cannot fill the memory
REFUSED = "unsubscribed or was erased; only they can subscribe again, through the form"


class AddRefused(Exception):
    """The address cannot be added (suppressed, already present); the message says why."""


@dataclass(slots=True)
class ImportReport:
    encoding: Encoding = UTF8
    added: int = 0
    pending: int = 0  # of those added, how many await their confirmation
    present: int = 0  # already on the list: left as they were, not errors
    skipped_count: int = 0  # present rows and refused ones (suppressed, disabled, blocklisted)
    error_count: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)  # (line, why not added), the first ones
    present_lines: list[tuple[int, str]] = field(default_factory=list)  # (line, status), the first ones
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, what is wrong), the first ones

    @property
    def skipped(self) -> list[tuple[int, str]]:
        """Every row not added that was not an error, refused or already present, in line order."""
        return sorted(self.refused + self.present_lines)

    def skip(self, line: int, reason: str, *, present: bool = False) -> None:
        self.skipped_count += 1
        if present:
            self.present += 1
        kept = self.present_lines if present else self.refused
        if len(kept) < MAX_DETAILS:
            kept.append((line, reason))

    def error(self, line: int, problem: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_DETAILS:
            self.errors.append((line, problem))


def add_subscriber(
    session: Session,
    settings: Settings,
    raw_email: str,
    topics: Collection[str],
    frequency: str,
    confirmed: bool,
    known_topics: Collection[str],
    now: datetime,
    method: str = "editor",
) -> str:
    """Add one person by hand; raises InvalidEmail, InvalidChoice or AddRefused. Returns the address."""
    email = normalise_email(raw_email)
    chosen, frequency = check_choice(topics, frequency, known_topics)
    if is_suppressed(session, email):
        raise AddRefused(f"{email} {REFUSED}")
    existing = store.by_email(session, email)
    if existing is not None:
        raise AddRefused(f"{email} is already on the list ({existing.status})")
    row = Row(0, email, tuple(chosen), frequency, confirmed, "editor")
    ids, _ = bulk_store.insert_subscribers(session, [_subscriber(row, settings, now)])
    if email not in ids:  # added by someone else a moment ago
        raise AddRefused(f"{email} is already on the list")
    _add_details(session, settings, [row], ids, now, method)
    return email


def import_csv(
    engine: Engine,
    settings: Settings,
    path: Path,
    known_topics: Collection[str],
    *,
    default_topics: Collection[str] = (),
    default_frequency: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    on_pending: Callable[[list[str]], None] | None = None,
    encoding: Encoding | None = None,
) -> ImportReport:
    """Import a CSV file, one transaction per batch of rows.

    ``on_progress(bytes_read, total_bytes)`` follows each batch. ``on_pending(addresses)`` gets, after
    each batch is committed, the rows of it meant to be pending (new or already here), so their
    confirmation mail can go out. ``encoding``: as detect_encoding found it, if already asked.
    """
    report = ImportReport(encoding=encoding or detect_encoding(path))
    total = path.stat().st_size
    frequency = default_frequency or settings.signup.default_frequency
    text, counter = open_text(path, report.encoding)
    with text, ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-read") as reader:
        rows = read_rows(text, known_topics, default_topics, frequency, report.error, report.encoding.label)

        def next_batch() -> tuple[list[Row], int]:
            return list(itertools.islice(rows, BATCH)), counter.bytes_read

        # The next batch is read and checked while this one is written: the database driver lets go
        # of the interpreter while it works, so the two overlap on a machine with more than one core.
        coming = reader.submit(next_batch)
        while True:
            batch, done = coming.result()
            if not batch:
                break
            coming = reader.submit(next_batch)
            _import_batch(engine, settings, batch, report, on_pending)
            if on_progress:
                on_progress(done, total)
    if on_progress:
        on_progress(total, total)
    report.errors.sort()
    return report


def _import_batch(
    engine: Engine,
    settings: Settings,
    rows: list[Row],
    report: ImportReport,
    on_pending: Callable[[list[str]], None] | None,
) -> None:
    """One transaction: a query for suppressions, then bulk inserts of whoever is new."""
    if not rows:
        return
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        bulk_store.prepare_bulk_writes(session)
        # Hashing every address costs a tenth of an import: only when some address is suppressed at all
        # (or this batch blocklists some) can a row be refused for it.
        hashes: dict[str, str] = {}
        if bulk_store.any_suppressed(session) or any(row.source == "listmonk:blocklisted" for row in rows):
            hasher = address_hasher(session)
            hashes = {row.email: hasher(row.email) for row in rows}
        suppressed = bulk_store.suppressed_among(session, hashes.values())
        wanted: dict[str, Row] = {}  # the first row of each address; later ones are duplicates
        later: list[Row] = []
        blocked: list[str] = []
        for row in rows:
            if row.source == "listmonk:disabled":
                report.skip(row.line, f"{row.email}: disabled in listmonk")
            elif row.source == "listmonk:blocklisted":
                # Blocklisted in listmonk: never add them, and remember not to.
                state = "already suppressed" if hashes[row.email] in suppressed else "now suppressed"
                report.skip(row.line, f"{row.email}: blocklisted in listmonk, {state} here")
                blocked.append(hashes[row.email])
            elif hashes.get(row.email) in suppressed:
                report.skip(row.line, f"{row.email} {REFUSED}")
            elif row.email in wanted:
                later.append(row)
            else:
                wanted[row.email] = row
        bulk_store.suppress_many(session, set(blocked), "blocklisted", now)
        # Who is already on the list first (a re-run finds everyone), so only new people get a link key
        # and an insert; the insert still skips anyone added meanwhile.
        status = bulk_store.statuses(session, list(wanted))
        new = [_subscriber(row, settings, now) for row in wanted.values() if row.email not in status]
        ids, raced = bulk_store.insert_subscribers(session, new)
        status.update(raced)
        added = [row for row in wanted.values() if row.email in ids]
        _add_details(session, settings, added, ids, now, "import")
        present = [row for row in wanted.values() if row.email not in ids] + later
        for row in later:  # a duplicate in the file has the status its first row was given
            status.setdefault(row.email, "confirmed" if wanted[row.email].confirmed else "pending")
    for row in sorted(present, key=lambda r: r.line):
        report.skip(row.line, f"{row.email} is already on the list ({status.get(row.email, 'pending')})", present=True)
    report.added += len(added)
    report.pending += sum(1 for row in added if not row.confirmed)
    if on_pending:
        on_pending([row.email for row in wanted.values() if not row.confirmed])


def _subscriber(row: Row, settings: Settings, now: datetime) -> dict[str, Any]:
    return {
        "email": row.email,
        "status": "confirmed" if row.confirmed else "pending",
        "frequency": row.frequency,
        "link_key": secrets.token_urlsafe(24),
        "policy_version": settings.privacy.policy_version if row.confirmed else None,
        "created_at": now,
        "confirmed_at": now if row.confirmed else None,
        "unsubscribed_at": None,
        "last_mail_request_at": None,
        "failed_deliveries": 0,
    }


def _add_details(
    session: Session, settings: Settings, rows: list[Row], ids: dict[str, int], now: datetime, method: str
) -> None:
    """Topics and the consent record of people just inserted."""
    action = "imported" if method == "import" else "added-by-editor"
    policy = settings.privacy.policy_version
    topics: list[dict[str, Any]] = []
    consents: list[dict[str, Any]] = []
    for row in rows:
        ident = ids[row.email]
        topics.extend({"subscriber_id": ident, "topic": topic} for topic in row.topics)
        claim = "consent confirmed by the editor" if row.confirmed else "awaiting the subscriber's confirmation"
        consents.append(
            {
                "subscriber_id": ident,
                "action": action,
                "method": method,
                "policy_version": policy,
                "detail": f"topics: {', '.join(row.topics)}; frequency: {row.frequency}; {claim}",
                "at": now,
                "client_ip": None,
                "user_agent": None,
            }
        )
    bulk_store.insert_topics(session, topics)
    bulk_store.insert_consents(session, consents)

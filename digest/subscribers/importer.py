"""Adding subscribers for editors: one by one, or from CSV (ours, or the subscriber export of listmonk).

Our CSV has the columns email, topics, frequency, confirmed. listmonk's export has uuid, email, name,
attributes, status, created_at, updated_at; topics and frequency come from the attributes JSON
("topics", "frequency") or else from the defaults given to the import. A "confirmed" row records the
editor's claim of consent as its source. Suppressed addresses (unsubscribed or erased) are never
added; bad rows are reported by line number and the others imported.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from digest.config import Settings
from digest.db.engine import session_scope
from digest.subscribers import store
from digest.subscribers.privacy import InvalidEmail, address_hash, is_suppressed, normalise_email
from digest.subscribers.signup import InvalidChoice, check_choice

OURS = ("email", "topics", "frequency", "confirmed")
LISTMONK = ("uuid", "email", "name", "attributes", "status")
BATCH = 500
_TOPIC_SPLIT = re.compile(r"[;,|\s]+")
_TRUE = {"true", "yes", "1", "y", "confirmed"}
_FALSE = {"false", "no", "0", "n", "", "pending", "unconfirmed"}


class AddRefused(Exception):
    """The address cannot be added (suppressed, already present); the message says why."""


@dataclass(slots=True)
class ImportReport:
    added: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, reason): not errors
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, what is wrong)


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    email: str
    topics: list[str]
    frequency: str
    confirmed: bool
    source: str


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
) -> None:
    """Add one person by hand or from an import; raises InvalidEmail, InvalidChoice or AddRefused."""
    email = normalise_email(raw_email)
    chosen, frequency = check_choice(topics, frequency, known_topics)
    if is_suppressed(session, email):
        raise AddRefused(f"{email} unsubscribed or was erased; only they can subscribe again, through the form")
    existing = store.by_email(session, email)
    if existing is not None:
        raise AddRefused(f"{email} is already on the list ({existing.status})")
    subscriber = store.create(session, email, frequency, now)
    store.set_topics(session, subscriber, chosen)
    if confirmed:
        subscriber.status = "confirmed"
        subscriber.confirmed_at = now
        subscriber.policy_version = settings.privacy.policy_version
    action = "imported" if method == "import" else "added-by-editor"
    claim = "; consent confirmed by the editor" if confirmed else "; awaiting the subscriber's confirmation"
    store.record_consent(
        session,
        subscriber,
        action,
        method,
        now,
        policy_version=settings.privacy.policy_version,
        detail=f"topics: {', '.join(chosen)}; frequency: {frequency}{claim}",
    )


def import_csv(
    engine: Engine,
    settings: Settings,
    path: Path,
    known_topics: Collection[str],
    *,
    default_topics: Collection[str] = (),
    default_frequency: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import a CSV file; commits every few hundred rows. ``on_progress(bytes_read, total_bytes)``."""
    report = ImportReport()
    total = path.stat().st_size
    frequency = default_frequency or settings.signup.default_frequency
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = _read_rows(fh, report, list(default_topics), frequency)
        batch: list[Row] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                _import_batch(engine, settings, batch, known_topics, report)
                batch = []
                if on_progress:
                    on_progress(fh.tell(), total)
        _import_batch(engine, settings, batch, known_topics, report)
    if on_progress:
        on_progress(total, total)
    report.errors.sort()
    report.skipped.sort()
    return report


def _import_batch(
    engine: Engine, settings: Settings, rows: list[Row], known: Collection[str], report: ImportReport
) -> None:
    if not rows:
        return
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        for row in rows:
            try:
                if row.source == "listmonk:disabled":
                    report.skipped.append((row.line, f"{normalise_email(row.email)}: disabled in listmonk"))
                    continue
                if row.source == "listmonk:blocklisted":
                    # Blocklisted in listmonk: never add them, and remember not to.
                    email = normalise_email(row.email)
                    store.suppress(session, address_hash(session, email), "blocklisted", now)
                    report.skipped.append((row.line, f"{email}: blocklisted in listmonk, now suppressed here"))
                    continue
                with session.begin_nested():  # a refused row must not undo the batch
                    add_subscriber(
                        session, settings, row.email, row.topics, row.frequency, row.confirmed, known, now, "import"
                    )
                report.added += 1
            except AddRefused as exc:
                report.skipped.append((row.line, str(exc)))
            except (InvalidEmail, InvalidChoice) as exc:
                report.errors.append((row.line, str(exc)))


def _read_rows(fh: IO[str], report: ImportReport, default_topics: list[str], frequency: str) -> Iterator[Row]:
    reader = csv.reader(fh)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        report.errors.append((1, "the file is empty"))
        return
    except csv.Error as exc:
        report.errors.append((1, f"not a CSV file: {exc}"))
        return
    if all(column in header for column in LISTMONK):
        kind = "listmonk"
    elif all(column in header for column in ("email",)):
        kind = "ours"
        missing = [c for c in OURS if c not in header]
        if "topics" in missing and not default_topics:
            report.errors.append((1, "no 'topics' column and no default topics given"))
            return
    else:
        report.errors.append((1, f"unknown columns {header}: expected {', '.join(OURS)} or a listmonk export"))
        return
    index = {name: i for i, name in enumerate(header)}
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            report.errors.append((reader.line_num, f"unreadable CSV: {exc}"))
            continue
        if not any(v.strip() for v in values):
            continue
        line = reader.line_num
        cell = {name: (values[i].strip() if i < len(values) else "") for name, i in index.items()}
        try:
            yield (_listmonk_row if kind == "listmonk" else _our_row)(line, cell, default_topics, frequency)
        except ValueError as exc:
            report.errors.append((line, str(exc)))


def _our_row(line: int, cell: dict[str, str], default_topics: list[str], frequency: str) -> Row:
    topics = [t for t in _TOPIC_SPLIT.split(cell.get("topics", "")) if t] or default_topics
    confirmed = cell.get("confirmed", "").lower()
    if confirmed not in _TRUE | _FALSE:
        raise ValueError(f"'confirmed' must be true or false, not '{cell['confirmed']}'")
    return Row(line, cell["email"], topics, cell.get("frequency") or frequency, confirmed in _TRUE, "csv")


def _listmonk_row(line: int, cell: dict[str, str], default_topics: list[str], frequency: str) -> Row:
    try:
        attributes = json.loads(cell["attributes"]) if cell["attributes"] else {}
    except json.JSONDecodeError:
        raise ValueError("'attributes' is not valid JSON") from None
    if not isinstance(attributes, dict):
        attributes = {}
    topics = attributes.get("topics", default_topics)
    if isinstance(topics, str):
        topics = [t for t in _TOPIC_SPLIT.split(topics) if t]
    status = cell["status"].lower()
    if status not in ("enabled", "disabled", "blocklisted"):
        raise ValueError(f"unknown listmonk status '{cell['status']}'")
    return Row(
        line,
        cell["email"],
        [str(t) for t in topics],
        str(attributes.get("frequency") or frequency),
        status == "enabled",
        f"listmonk:{status}",
    )

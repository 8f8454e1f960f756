"""``digest bounces fetch``: bounces from an IMAP mailbox, each processed once, then moved or deleted.

Exactly once, even when two fetchers run at the same time: one lock (PostgreSQL's advisory lock, or a
lock on a file beside the SQLite database) lets only one fetch at a time, and the other reports it left
the mailbox to it; IMAP itself cannot keep two sessions from moving one message. A report already
recorded is not acted on again (its key is unique), so a message fetched twice by two fetchers, or
fetched again after a crash between processing and moving, changes nothing the second time. A message
is moved away only after its report was committed.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from sqlalchemy import Engine

from digest.bounces.process import Processor
from digest.config import Settings
from digest.db.locks import try_exclusive
from digest.failures import OperatorError

log = logging.getLogger(__name__)
BATCH = 200  # messages per fetch run; the next run takes the rest
_UID = re.compile(rb"UID (\d+)")


class MailboxError(OperatorError):
    """The bounce mailbox cannot be reached, refuses the login, or has no such folder."""


@dataclass(slots=True)
class FetchReport:
    processed: int = 0  # new reports stored and acted on
    skipped: int = 0  # reports recorded before (by another fetcher, or before a crash)
    busy: int = 0  # 1 when another fetcher held the mailbox


def fetch_mailbox(engine: Engine, settings: Settings, processor: Processor) -> FetchReport:
    """Process every message in the bounce folder, then move (or delete) it."""
    report = FetchReport()
    with try_exclusive(engine, "bounces-fetch") as mine:
        if not mine:
            report.busy = 1
            return report
        imap = _connect(settings)
        try:
            _fetch(imap, settings, processor, report)
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                imap.logout()
    return report


def _fetch(imap: imaplib.IMAP4, settings: Settings, processor: Processor, report: FetchReport) -> None:
    b = settings.bounces
    status, _ = imap.select(_quote(b.imap_folder))
    if status != "OK":
        raise MailboxError(f"bounce mailbox: no folder {b.imap_folder!r} (bounces.imap_folder)")
    if b.imap_after == "move":
        imap.create(_quote(b.imap_done_folder))  # "already exists" is fine
    status, data = imap.uid("SEARCH", "UNDELETED")
    uids = [u.decode() for u in data[0].split()[:BATCH]] if status == "OK" and data and data[0] else []
    can_move = "MOVE" in imap.capabilities
    for uid in uids:
        status, parts = imap.uid("FETCH", uid, "(BODY.PEEK[])")
        raw = next((p[1] for p in parts if isinstance(p, tuple) and _UID.search(p[0])), None)
        if status != "OK" or not isinstance(raw, bytes):
            continue  # taken away meanwhile (another fetcher moved it)
        outcome = processor.process_message(raw, "imap")
        if outcome.action == "duplicate":
            report.skipped += 1
        else:
            report.processed += 1
        _done(imap, uid, b.imap_after, b.imap_done_folder, can_move)
    if not can_move or b.imap_after == "delete":
        imap.expunge()


def _done(imap: imaplib.IMAP4, uid: str, after: str, folder: str, can_move: bool) -> None:
    if after == "move" and can_move:
        imap.uid("MOVE", uid, _quote(folder))
        return
    if after == "move":
        imap.uid("COPY", uid, _quote(folder))
    imap.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)")


def _open(settings: Settings) -> imaplib.IMAP4:
    b = settings.bounces
    url = urlsplit(b.imap_url or "")
    host = url.hostname or "localhost"
    tls = b.imap_tls == "tls" or url.scheme == "imaps"
    port = url.port or (993 if tls else 143)
    imap: imaplib.IMAP4 | None = None
    try:
        context = ssl.create_default_context(cafile=b.imap_ca_file)
        if tls:
            imap = imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=30)
        else:
            imap = imaplib.IMAP4(host, port, timeout=30)
            if b.imap_tls == "starttls":
                imap.starttls(context)
        imap.login(unquote(url.username or ""), unquote(url.password or ""))
        return imap
    except BaseException:
        if imap is not None:
            with contextlib.suppress(OSError):
                imap.shutdown()
        raise


def _connect(settings: Settings) -> imaplib.IMAP4:
    b = settings.bounces
    url = urlsplit(b.imap_url or "")
    host = url.hostname or "localhost"
    port = url.port or (993 if b.imap_tls == "tls" or url.scheme == "imaps" else 143)
    where = f"bounce mailbox {host}:{port}"
    try:
        return _open(settings)
    except ConnectionRefusedError:
        raise MailboxError(f"{where}: connection refused (bounces.imap_url)") from None
    except socket.gaierror:
        raise MailboxError(f"{where}: name not found (bounces.imap_url)") from None
    except TimeoutError:
        raise MailboxError(f"{where}: timed out (bounces.imap_url)") from None
    except ssl.SSLError as exc:
        raise MailboxError(f"{where}: TLS failed: {exc.reason or exc} (bounces.imap_tls)") from None
    except FileNotFoundError:
        raise MailboxError(f"bounces.imap_ca_file: {b.imap_ca_file}: no such file") from None
    except imaplib.IMAP4.error as exc:
        raise MailboxError(f"{where}: {_said(exc)} (bounces.imap_url)") from None
    except OSError as exc:
        raise MailboxError(f"{where}: {exc.strerror or exc}") from None


def _said(exc: Exception) -> str:
    text = str(exc.args[0] if exc.args else exc)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    return text or "refused"


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'

"""Delivering messages: a file outbox (the default) or a real SMTP server, chosen by URL.

- ``file:///path/to/outbox`` (or ``file://relative/path``): each message becomes one ``.eml`` file,
  written to a temporary name and renamed, so a reader of the folder never sees half a message.
- ``smtp://user:password@host:port`` uses STARTTLS when the server offers it;
  ``smtps://`` connects with TLS from the start. One connection is reused for many messages.

Failures raise ``DeliveryError`` with ``permanent`` set for 5xx answers (do not retry) and cleared for
4xx answers and dropped connections (retry later).
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
import tempfile
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Protocol
from urllib.parse import unquote, urlsplit


class DeliveryError(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...

    def send_raw(self, sender: str, recipient: str, data: bytes) -> None: ...

    def close(self) -> None: ...


class FileOutbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def send(self, message: EmailMessage) -> None:
        self.send_raw(str(message["From"]), str(message["To"]), message.as_bytes())

    def send_raw(self, sender: str, recipient: str, data: bytes) -> None:
        name = f"{uuid.uuid4().hex}.eml"
        fd, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temporary, self.folder / name)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def close(self) -> None:
        pass


class SmtpTransport:
    def __init__(self, url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.tls:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
        if self.username:
            smtp.login(self.username, self.password or "")
        return smtp

    def check(self) -> None:
        """Connect and sign in once, and keep the connection; raises what went wrong, unwrapped."""
        if self._smtp is None:
            self._smtp = self._connect()

    def send(self, message: EmailMessage) -> None:
        self._deliver(lambda smtp: smtp.send_message(message))

    def send_raw(self, sender: str, recipient: str, data: bytes) -> None:
        """Send bytes that are already a whole message (sender: the envelope address)."""
        # smtplib passes bytes through as they are, and SMTP lines end in CRLF.
        wire = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        self._deliver(lambda smtp: smtp.sendmail(sender, [recipient], wire))

    def _deliver(self, action: Callable[[smtplib.SMTP], dict[str, tuple[int, bytes]]]) -> None:
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            refused = action(self._smtp)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise DeliveryError(
                f"recipient refused: {code} {reply.decode(errors='replace')}", permanent=code >= 500
            ) from None
        except smtplib.SMTPResponseException as exc:
            self._drop()
            text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
            raise DeliveryError(f"SMTP {exc.smtp_code} {text}", permanent=exc.smtp_code >= 500) from None
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise DeliveryError(f"{type(exc).__name__}: {exc}", permanent=False) from None
        if refused:
            code, reply = next(iter(refused.values()))
            raise DeliveryError(f"recipient refused: {code} {reply.decode(errors='replace')}", permanent=code >= 500)

    def _drop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            finally:
                self._smtp = None

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._smtp = None


def open_transport(url: str) -> FileOutbox | SmtpTransport:
    """The transport a mail URL names; raises ValueError for a URL it cannot use."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        path = unquote(parts.netloc + parts.path)  # file://var/outbox is relative, file:///srv/out absolute
        if not path:
            raise ValueError(f"mail URL {url!r} names no folder")
        return FileOutbox(Path(path))
    if parts.scheme in ("smtp", "smtps"):
        if not parts.hostname:
            raise ValueError(f"mail URL {url!r} names no host")
        return SmtpTransport(url)
    raise ValueError(f"mail URL {url!r}: use file:///path/to/outbox, smtp://host:port or smtps://host:port")


class Sending:
    """A transport as a context manager: the connection is closed however the block ends."""

    def __init__(self, url: str) -> None:
        self.transport = open_transport(url)

    def __enter__(self) -> FileOutbox | SmtpTransport:
        return self.transport

    def __exit__(self, *exc: object | TracebackType | None) -> None:
        self.transport.close()

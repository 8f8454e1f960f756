"""Delivering messages: a file outbox (the default) or a real SMTP server, chosen by URL.

- ``file:///path/to/outbox`` (or ``file://relative/path``): each message becomes one ``.eml`` file,
  written to a temporary name and renamed, so a reader of the folder never sees half a message; the
  envelope sender is written first as ``Return-Path:``, so what was sent can be checked.
- ``smtp://user:password@host:port`` uses STARTTLS when the server offers it;
  ``smtps://`` connects with TLS from the start. One connection is reused for many messages.

``send_raw`` takes a message as the email package writes it; ``send_wire`` one already in the form
SMTP sends after DATA (``message.wire_form``), as the digest sender builds its copies. A sender with
several connections uses ``pipeline()`` where the server offers PIPELINING (``mail.pipelining``).

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
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from types import TracebackType
from typing import Protocol
from urllib.parse import unquote, urlsplit

from digest.mail.message import from_wire, wire_form
from digest.mail.pipelining import DeliveryError as DeliveryError
from digest.mail.pipelining import Pipeline, end_of_data, envelope_refusal, reply_text


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...

    def send_raw(self, sender: str, recipient: str, data: bytes) -> None: ...

    def send_wire(self, sender: str, recipient: str, wire: bytes) -> None: ...

    def close(self) -> None: ...


class FileOutbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def send(self, message: EmailMessage) -> None:
        (_name, sender), (_to, recipient) = getaddresses([str(message["From"]), str(message["To"])])
        self.send_raw(sender, recipient, message.as_bytes())

    def send_wire(self, sender: str, recipient: str, wire: bytes) -> None:
        self.send_raw(sender, recipient, from_wire(wire))

    def send_raw(self, sender: str, recipient: str, data: bytes) -> None:
        """Write the message as an MTA's local delivery would: the envelope sender as ``Return-Path``."""
        data = b"Return-Path: <" + sender.encode("utf-8", "replace") + b">\n" + data
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
        self._pipeline: Pipeline | None = None

    def _connect(self) -> smtplib.SMTP:
        smtp: smtplib.SMTP
        # The TLS context only when TLS is used: loading the system's certificates costs more
        # than a thousand plain messages.
        if self.tls:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=ssl.create_default_context())
            smtp.ehlo()
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
        if self.username:
            smtp.login(self.username, self.password or "")
        return smtp

    def check(self) -> None:
        """Connect and sign in once, and keep the connection; raises what went wrong, unwrapped."""
        if self._smtp is None:
            self._smtp = self._connect()

    def send(self, message: EmailMessage) -> None:
        """One message to its one ``To`` address, from the address in its ``From``."""
        (_name, sender), (_to, recipient) = getaddresses([str(message["From"]), str(message["To"])])
        self.send_raw(sender, recipient, message.as_bytes())

    def send_raw(self, sender: str, recipient: str, data: bytes) -> None:
        """Send bytes that are already a whole message (sender: the envelope address)."""
        self.send_wire(sender, recipient, wire_form(data))

    def send_wire(self, sender: str, recipient: str, wire: bytes) -> None:
        """Send a message already in the form SMTP sends after DATA (``message.wire_form``).

        Step by step rather than ``sendmail``, so a refusal leaves the connection ready for the next
        message, and a connection found closed before anything was handed over is simply reopened."""
        smtp = self._smtp
        if smtp is not None and smtp.has_extn("pipelining") and (sender + recipient).isascii():
            try:
                self._pipelined(smtp, sender, recipient, wire)
                return
            except _Reopen:
                self._drop()  # closed while idle, before anything was accepted: start again step by step
        try:
            smtp = self._envelope(sender, recipient, len(wire))
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                self._after_refusal(code)
                raise DeliveryError(f"recipient refused: {code} {_text(reply)}", permanent=code >= 500)
            code, reply = smtp.docmd("data")
            if code != 354:
                raise smtplib.SMTPDataError(code, reply)
            smtp.send(end_of_data(wire))
            code, reply = smtp.getreply()
            if code != 250:
                self._after_refusal(code)
                raise DeliveryError(f"SMTP {code} {_text(reply)}", permanent=code >= 500)
        except smtplib.SMTPResponseException as exc:
            self._drop()
            raise DeliveryError(
                f"SMTP {exc.smtp_code} {_text(exc.smtp_error)}", permanent=exc.smtp_code >= 500
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise DeliveryError(f"{type(exc).__name__}: {exc}", permanent=False) from None

    def _pipelined(self, smtp: smtplib.SMTP, sender: str, recipient: str, wire: bytes) -> None:
        """MAIL, RCPT and DATA in one write (RFC 2920), on a connection already open: half the round
        trips of the step-by-step path, with the same errors."""
        size = f" SIZE={len(wire)}" if smtp.has_extn("size") else ""
        try:
            smtp.send(f"MAIL FROM:<{sender}>{size}\r\nRCPT TO:<{recipient}>\r\nDATA\r\n")
            mail = smtp.getreply()
        except (smtplib.SMTPServerDisconnected, OSError):
            raise _Reopen from None
        try:
            rcpt, data = smtp.getreply(), smtp.getreply()
            if mail[0] == 250 and rcpt[0] in (250, 251) and data[0] == 354:
                smtp.send(end_of_data(wire))
                code, reply = smtp.getreply()
                if code == 250:
                    return
                self._after_refusal(code)
                raise DeliveryError(f"SMTP {code} {_text(reply)}", permanent=code >= 500)
            if data[0] == 354:  # DATA accepted although the envelope was refused: end it empty
                smtp.send(b".\r\n")
                smtp.getreply()
            label, code, reply = envelope_refusal(mail, rcpt, data)
            self._after_refusal(code)
            raise DeliveryError(f"{label} {code} {_text(reply)}", permanent=code >= 500)
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise DeliveryError(f"{type(exc).__name__}: {exc}", permanent=False) from None

    def pipeline(self) -> Pipeline | None:
        """This connection (opened if need be) for groups of commands written before their replies
        are read, when the server offers PIPELINING; None when it does not."""
        if self._pipeline is None or self._smtp is None or self._pipeline.smtp is not self._smtp:
            self._pipeline = None
            try:
                self.check()
            except (smtplib.SMTPException, OSError) as exc:
                self._drop()
                raise DeliveryError(f"{type(exc).__name__}: {exc}", permanent=False) from None
            assert self._smtp is not None
            if self._smtp.has_extn("pipelining"):
                self._pipeline = Pipeline(self._smtp, self._drop)
        return self._pipeline

    def _envelope(self, sender: str, recipient: str, size: int) -> smtplib.SMTP:
        """A connection with MAIL FROM accepted. A reused connection the server has closed meanwhile
        (idle timeout, or a 421 on the last message) is opened again: nothing was handed over yet."""
        reused = self._smtp is not None
        for _ in range(2):
            if self._smtp is None:
                self._smtp = self._connect()
            smtp = self._smtp
            options = [f"size={size}"] if smtp.has_extn("size") else []
            if not (sender + recipient).isascii():
                options.append("SMTPUTF8")
            try:
                code, reply = smtp.mail(sender, options)
            except smtplib.SMTPNotSupportedError as exc:
                raise DeliveryError(f"the server cannot take this address: {exc}", permanent=True) from None
            except (smtplib.SMTPServerDisconnected, OSError):
                self._drop()
                if not reused:
                    raise
                reused = False
                continue
            if code != 250:
                self._after_refusal(code)
                raise DeliveryError(f"sender refused: {code} {_text(reply)}", permanent=code >= 500)
            return smtp
        raise AssertionError("unreachable")  # pragma: no cover

    def _after_refusal(self, code: int) -> None:
        """Reset the transaction so the connection can carry the next message; 421 means it is closing."""
        if code == 421 or self._smtp is None:
            self._drop()
            return
        try:
            self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        if self._smtp is not None:
            smtp, self._smtp = self._smtp, None
            with contextlib.suppress(OSError):
                smtp.close()

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._smtp = None

    def abandon(self) -> None:
        """Close without QUIT: a message whose DATA was answered 354 and whose data has not ended
        is not delivered (a QUIT there would only be a line of its data)."""
        self._drop()


class _Reopen(Exception):
    """The reused connection was found closed before the server accepted anything."""


_text = reply_text


def open_transport(url: str, timeout: float = 30.0) -> FileOutbox | SmtpTransport:
    """The transport a mail URL names (``timeout``: seconds an SMTP server may stay silent);
    raises ValueError for a URL it cannot use."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        path = unquote(parts.netloc + parts.path)  # file://var/outbox is relative, file:///srv/out absolute
        if not path:
            raise ValueError(f"mail URL {url!r} names no folder")
        return FileOutbox(Path(path))
    if parts.scheme in ("smtp", "smtps"):
        if not parts.hostname:
            raise ValueError(f"mail URL {url!r} names no host")
        return SmtpTransport(url, timeout)
    raise ValueError(f"mail URL {url!r}: use file:///path/to/outbox, smtp://host:port or smtps://host:port")


class Sending:
    """A transport as a context manager: the connection is closed however the block ends."""

    def __init__(self, url: str) -> None:
        self.transport = open_transport(url)

    def __enter__(self) -> FileOutbox | SmtpTransport:
        return self.transport

    def __exit__(self, *exc: object | TracebackType | None) -> None:
        self.transport.close()

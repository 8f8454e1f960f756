"""Whether the mail transport named by ``mail_url`` can be used at all, checked before a send run.

A mail server that is down, a wrong port or a refused password would otherwise turn every digest of
the run into a failed attempt queued for a retry; checked first, it is one message for the operator
and nothing is attempted. The message names the server (host and port), never the URL, which may
hold a password.
"""

from __future__ import annotations

import smtplib

from digest.failures import OperatorError, describe_error
from digest.mail.transports import FileOutbox, SmtpTransport, open_transport


class MailUnavailable(OperatorError):
    """The mail server cannot be reached or refuses us, or the outbox folder cannot be written."""


def check_transport(url: str) -> None:
    """Raise ``MailUnavailable`` saying why mail cannot go out through ``url``; return when it can."""
    try:
        transport = open_transport(url)
    except ValueError as exc:
        raise MailUnavailable(str(exc)) from None
    except OSError as exc:
        folder = exc.filename or "named by mail_url"
        raise MailUnavailable(f"cannot make the mail outbox folder {folder}: {describe_error(exc)}") from None
    try:
        if isinstance(transport, SmtpTransport):
            _check_server(transport)
        else:
            _check_folder(transport)
    finally:
        transport.close()


def _check_server(transport: SmtpTransport) -> None:
    server = f"{transport.host}:{transport.port}"
    try:
        transport.check()
    except smtplib.SMTPAuthenticationError as exc:
        raise MailUnavailable(
            f"the mail server {server} refused the user name or password in mail_url: {_reply(exc)}"
        ) from None
    except smtplib.SMTPResponseException as exc:
        raise MailUnavailable(f"the mail server {server} refused the connection: {_reply(exc)}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise MailUnavailable(f"cannot reach the mail server {server} (mail_url): {describe_error(exc)}") from None


def _check_folder(outbox: FileOutbox) -> None:
    probe = outbox.folder / ".digest-write-check"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise MailUnavailable(f"cannot write to the mail outbox {outbox.folder}: {describe_error(exc)}") from None


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    return f"{exc.smtp_code} {text}".strip()

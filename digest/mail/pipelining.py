"""SMTP command pipelining (RFC 2920): a connection's commands written in groups, replies read later.

A sender with several connections writes a group on each before it reads any reply, so the server
works on all of them while the sender waits once; and it ends each message's data and starts the
next message's envelope (MAIL, RCPT, DATA) in one group, so a message costs one round trip, not two.
The RFC allows exactly that: a group may begin with a message's data and must end with DATA.

A message is delivered only when the server answers its data's final dot; an envelope whose DATA
was answered 354 holds nothing yet, and closing the connection there (``abandon``) sends nothing.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from dataclasses import dataclass


class DeliveryError(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def end_of_data(wire: bytes) -> bytes:
    """A message in ``message.wire_form`` and the line that ends the data."""
    return wire + (b".\r\n" if wire.endswith(b"\r\n") else b"\r\n.\r\n")


def reply_text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


Reply = tuple[int, bytes]


def envelope_refusal(mail: Reply, rcpt: Reply, data: Reply) -> tuple[str, int, bytes]:
    """Which of an envelope's three replies refused it, as the error says: its label, code and text."""
    if mail[0] != 250:
        return "sender refused:", *mail
    if rcpt[0] not in (250, 251):
        return "recipient refused:", *rcpt
    return "SMTP", *data


@dataclass(frozen=True, slots=True)
class _Group:
    body: bool  # ends a message's data: its first reply is the message's
    envelope: bool  # then MAIL, RCPT and DATA of the next message
    reset: bool  # with an RSET before the MAIL


class Pipeline:
    """One open SMTP connection whose server offers PIPELINING. Per group, ``replies`` gives the
    outcome of the message whose data it ended and of the envelope it started (None: accepted)."""

    def __init__(self, smtp: smtplib.SMTP, drop: Callable[[], None]) -> None:
        self.smtp, self.drop = smtp, drop
        self.size = smtp.has_extn("size")
        self.out: list[bytes] = []
        self.groups: list[_Group] = []
        self.reset = False  # a refused envelope left a transaction open: RSET before the next MAIL
        self.broken = False  # the connection failed or closed: the transport opens a new one

    def write(self, wire: bytes | None, envelope: tuple[str, str, int] | None = None) -> None:
        """Queue the data of the message whose envelope was accepted (``wire``), then the envelope
        (sender, recipient: ASCII addresses; size) of the next one; either or both."""
        if wire is not None:
            self.out.append(end_of_data(wire))
        reset = False
        if envelope is not None:
            sender, recipient, size = envelope
            reset, self.reset = self.reset, False
            option = f" SIZE={size}" if self.size else ""
            head = "RSET\r\n" if reset else ""
            self.out.append(f"{head}MAIL FROM:<{sender}>{option}\r\nRCPT TO:<{recipient}>\r\nDATA\r\n".encode())
        self.groups.append(_Group(wire is not None, envelope is not None, reset))

    def flush(self) -> None:
        """Send what is queued; a failure is told by ``replies``."""
        data, self.out = b"".join(self.out), []
        if self.broken:
            return
        try:
            self.smtp.sock.sendall(data)  # type: ignore[union-attr]
        except (OSError, AttributeError):
            self._break()

    def replies(self) -> list[tuple[DeliveryError | None, DeliveryError | None]]:
        """For every group written since the last call, in order: what became of the message whose
        data it ended and of the envelope it started (None: delivered / ready for its data)."""
        groups, self.groups = self.groups, []
        return [self._read(group) for group in groups]

    def _read(self, group: _Group) -> tuple[DeliveryError | None, DeliveryError | None]:
        message = envelope = None
        answered = not group.body  # the message's own reply has been read
        try:
            if group.body:
                code, reply = self._reply()
                answered = True
                if code != 250:
                    message = DeliveryError(f"SMTP {code} {reply_text(reply)}", permanent=code >= 500)
            if group.envelope:
                if group.reset:
                    self._reply()
                mail, rcpt, data = self._reply(), self._reply(), self._reply()
                if data[0] == 354 and (mail[0] != 250 or rcpt[0] not in (250, 251)):
                    self.smtp.sock.sendall(b".\r\n")  # type: ignore[union-attr]  # no recipient: nothing is sent
                    data = self._reply()
                label, code, reply = envelope_refusal(mail, rcpt, data)
                if code != 354:
                    envelope = DeliveryError(f"{label} {code} {reply_text(reply)}", permanent=code >= 500)
                    self.reset = True
        except (smtplib.SMTPException, OSError, AttributeError) as exc:
            self._break()
            failed = DeliveryError(f"{type(exc).__name__}: {exc}", permanent=False)
            return (message if answered else failed), (failed if group.envelope else None)
        return message, envelope

    def _reply(self) -> tuple[int, bytes]:
        if self.broken:
            raise smtplib.SMTPServerDisconnected("connection closed")
        code, reply = self.smtp.getreply()
        if code == 421:  # the server is closing the connection: what follows cannot be answered
            self._break()
        return code, reply

    def _break(self) -> None:
        if not self.broken:
            self.broken = True
            self.drop()

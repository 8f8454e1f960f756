"""Building MIME messages with the standard email package: text and HTML parts, safe headers.

Header values are built from plain text only after every CR, LF and other control character is
replaced, so no feed title or form input can ever add a header.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def header_text(value: str, limit: int = 200) -> str:
    """One line of header-safe text: control characters become spaces; long values are cut."""
    text = " ".join(_CONTROL.sub(" ", value).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def build_message(
    *,
    sender: tuple[str, str],
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    reply_to: str | None = None,
    message_id: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """A multipart/alternative message (or plain text when there is no HTML)."""
    msg = EmailMessage()
    msg["From"] = formataddr((header_text(sender[0]), sender[1]))
    msg["To"] = to
    msg["Subject"] = header_text(subject)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = message_id or make_msgid(domain=sender[1].rpartition("@")[2] or "localhost")
    if reply_to:
        msg["Reply-To"] = reply_to
    for name, value in (headers or {}).items():
        msg[name] = header_text(value, limit=900)
    msg.set_content(text, cte="quoted-printable")
    if html is not None:
        msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return msg


# Placeholders in a message template; the .invalid domain is reserved, so they cannot occur in content.
TO_PLACEHOLDER = "to@placeholder.invalid"
ID_PLACEHOLDER = "<message-id@placeholder.invalid>"
_TEXT_BODY = "TEXT-BODY-PLACEHOLDER"
_HTML_BODY = "HTML-BODY-PLACEHOLDER"


class MessageTemplate:
    """A multipart/alternative message built once with the email package, with placeholders where
    each copy differs: the recipient, the Message-ID, the two bodies, and any given header tokens.

    ``render`` produces one copy's bytes by substitution and quoted-printable encoding in C
    (binascii), which is what lets thousands of personalised copies go out per second.
    """

    def __init__(
        self,
        *,
        sender: tuple[str, str],
        subject: str,
        reply_to: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        message = build_message(
            sender=sender,
            to=TO_PLACEHOLDER,
            subject=subject,
            text=_TEXT_BODY,
            html=_HTML_BODY,
            reply_to=reply_to,
            message_id=ID_PLACEHOLDER,
            headers=headers,
        )
        raw = message.as_bytes()
        # Both parts were built quoted-printable: the placeholder bodies came through unchanged.
        assert raw.count(_TEXT_BODY.encode()) == 1 and raw.count(_HTML_BODY.encode()) == 1
        self.head, rest = raw.split(_TEXT_BODY.encode())
        self.middle, self.tail = rest.split(_HTML_BODY.encode())
        # The same three pieces as SMTP sends them after DATA: each starts a line, so each is
        # converted on its own, once for every copy of the group.
        self.wire_head, self.wire_middle, self.wire_tail = (wire_piece(p) for p in (self.head, self.middle, self.tail))

    def render(self, to: str, message_id: str, text: QuotedBody, html: QuotedBody, values: Mapping[str, str]) -> bytes:
        """One copy: ``values`` maps each placeholder token (in headers and bodies) to this copy's value."""
        head = self.head.replace(_TO, to.encode()).replace(_ID, message_id.encode())
        for token, value in values.items():
            if token.encode() in head:
                head = head.replace(token.encode(), header_text(value, limit=900).encode())
        # Each value is encoded once for all its places in both parts.
        encoded = {token: _qp_piece(value) for token, value in values.items()}
        return b"".join((head, text.fill_encoded(encoded), self.middle, html.fill_encoded(encoded), self.tail))

    def render_wire(
        self, to: str, message_id: str, text: QuotedBody, html: QuotedBody, values: Mapping[str, str]
    ) -> bytes:
        """The copy ``render`` makes, as SMTP sends it after DATA (``wire_form`` of it), made from
        pieces converted once per group: a copy converts only its own few values, never its ~20 kB."""
        head = self.wire_head.replace(_TO, to.encode()).replace(_ID, message_id.encode())
        for token, value in values.items():
            if token.encode() in head:  # header values are one line each and never start one
                head = head.replace(token.encode(), header_text(value, limit=900).encode())
        encoded = {token: wire_piece(_qp_piece(value)) for token, value in values.items()}
        return b"".join((head, text.fill_wire(encoded), self.wire_middle, html.fill_wire(encoded), self.wire_tail))


def wire_form(data: bytes) -> bytes:
    """A whole message as SMTP sends it after DATA: CRLF line ends, and a dot doubled where a line
    starts with one (RFC 5321 4.5.2), so the server takes no line of it for the end of the data."""
    return wire_piece(data)


def wire_piece(piece: bytes) -> bytes:
    """``wire_form`` of a piece of a message that starts a line."""
    if b"\r" in piece:
        piece = piece.replace(b"\r\n", b"\n")
    wire = piece.replace(b"\n", b"\r\n")
    if b"\n." in wire:
        wire = wire.replace(b"\n.", b"\n..")
    return b"." + wire if wire.startswith(b".") else wire


def from_wire(wire: bytes) -> bytes:
    """The message a ``wire_form`` was made from, with LF line ends (for writing it to a file)."""
    data = wire.replace(b"\r\n..", b"\r\n.")
    return (data[1:] if data.startswith(b"..") else data).replace(b"\r\n", b"\n")


_TO = TO_PLACEHOLDER.encode()
_ID = ID_PLACEHOLDER.encode()


class QuotedBody:
    """A body with placeholder tokens, quoted-printable encoded once for many copies.

    The text between placeholders is encoded here; each copy encodes only its own values (a few
    links) and joins the pieces with soft line breaks, which decoders remove, so no line exceeds the
    76 characters quoted-printable allows and the decoded body is exactly the substituted text.
    """

    def __init__(self, text: str, placeholders: Sequence[str]) -> None:
        # Line ends as mail has them (an editor's note from a form comes with CRLF); a lone CR too,
        # so both forms of a copy, ``fill`` and ``fill_wire``, end their lines the same way.
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        pattern = re.compile("|".join(re.escape(p) for p in placeholders)) if placeholders else None
        pieces = pattern.split(text) if pattern else [text]
        self.tokens: tuple[str, ...] = tuple(pattern.findall(text)) if pattern else ()
        self.pieces = tuple(_qp_piece(piece) for piece in pieces)
        self.wire_pieces = tuple(wire_piece(piece) for piece in self.pieces)

    def fill(self, values: Mapping[str, str]) -> bytes:
        return self.fill_encoded({token: _qp_piece(value) for token, value in values.items()})

    def fill_encoded(self, encoded: Mapping[str, bytes]) -> bytes:
        """The body with each token's value, already encoded as a piece (``_qp_piece``)."""
        return self._fill(self.pieces, encoded, b"\n")

    def fill_wire(self, encoded: Mapping[str, bytes]) -> bytes:
        """``fill_encoded`` as SMTP sends it (``wire_form``), from ``encoded`` values in that form too.
        Every piece starts a line (each before it ends in a line break, soft or hard), so each is
        converted once, on its own."""
        return self._fill(self.wire_pieces, encoded, b"\r\n")

    def _fill(self, pieces: tuple[bytes, ...], encoded: Mapping[str, bytes], end: bytes) -> bytes:
        """The pieces with the values between them, ending in one hard line break (``end``)."""
        parts = [pieces[0]]
        for token, piece in zip(self.tokens, pieces[1:], strict=True):
            parts.append(encoded[token])
            parts.append(piece)
        body = b"".join(parts)
        if body.endswith(b"=" + end):  # a soft break at the very end: the body's last line ends there
            return body[: -len(end) - 1] + end
        return body if body.endswith(end) else body + end


def _qp_piece(text: str) -> bytes:
    """One piece of a body; a piece that does not end a line ends in a soft line break."""
    if not text:
        return b""
    encoded = binascii.b2a_qp(text.encode("utf-8", "replace"), istext=True)
    if encoded.endswith(b"\n"):
        return encoded
    last = encoded[encoded.rfind(b"\n") + 1 :]
    if len(last) <= 75:
        return encoded + b"=\n"
    # b2a_qp may leave a last line of 76 characters, with no room for the soft break: break it
    # earlier, never inside an "=XX" escape (in encoded text every "=" starts one).
    cut = 75
    if last[cut - 1 : cut] == b"=":
        cut -= 1
    elif last[cut - 2 : cut - 1] == b"=":
        cut -= 2
    return encoded[: len(encoded) - len(last)] + last[:cut] + b"=\n" + last[cut:] + b"=\n"

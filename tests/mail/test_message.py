"""Quoted-printable bodies encoded once and filled per copy decode to exactly the personalised text,
and the copies built in the form SMTP sends (CRLF, leading dots doubled) are exactly that text's."""

from __future__ import annotations

import quopri

from hypothesis import example, given
from hypothesis import strategies as st

from digest.mail.message import MessageTemplate, QuotedBody, from_wire, wire_form

A = "https://placeholder.invalid/a"
B = "https://placeholder.invalid/b"
pieces = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=200)
links = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=300)


@given(st.lists(st.tuples(pieces, st.sampled_from([A, B])), max_size=6), pieces, links, links)
# A piece whose encoding ends in a full 76-character line: its soft break needs a line of its own.
@example([("0000000000\x1f\x1f" + "\x80" * 16 + "\U00010000" * 3 + "0", A)], "", "0", "0")
def test_filled_body_decodes_to_the_substituted_text(parts: list[tuple[str, str]], last: str, a: str, b: str) -> None:
    text = "".join(piece + token for piece, token in parts) + last
    body = QuotedBody(text, (A, B)).fill({A: a, B: b})
    expected = text.replace(A, "\0a").replace(B, "\0b").replace("\0a", a).replace("\0b", b)
    decoded = quopri.decodestring(body).decode("utf-8")
    assert decoded.rstrip("\n") == expected.rstrip("\n")
    assert all(len(line) <= 76 for line in body.split(b"\n"))
    assert body.endswith(b"\n")


def test_a_body_without_placeholders_is_plain_quoted_printable() -> None:
    body = QuotedBody("Grüße from the court = a ruling\n", (A,)).fill({})
    assert body == b"Gr=C3=BC=C3=9Fe from the court =3D a ruling\n"


dotted = st.lists(
    st.sampled_from([".", "..", "\n", "\n.", "\r\n", "é", "=", " ", "x", "x" * 80, A, B]), max_size=60
).map("".join)


@given(dotted, dotted, links, links)
@example(".\n..\n", "", ".", ".a")
def test_a_copy_built_for_the_wire_is_the_copy_in_smtp_form(text: str, html: str, a: str, b: str) -> None:
    template = MessageTemplate(sender=("Digest", "d@example.org"), subject="S", headers={"List-Unsubscribe": f"<{B}>"})
    values = {A: a, B: "." + b}  # a link that, folded, may start a line with a dot
    args = ("r@example.org", "<m@example.org>", QuotedBody(text, (A, B)), QuotedBody(html, (A, B)), values)
    plain, wire = template.render(*args), template.render_wire(*args)
    assert wire == wire_form(plain)
    assert b"\r\n.\r\n" not in wire and not wire.startswith(b".\r\n")  # no line of it ends the data
    assert all(line.startswith(b"..") for line in wire.split(b"\r\n") if line.startswith(b"."))
    assert from_wire(wire) == plain

"""Quoted-printable bodies encoded once and filled per copy decode to exactly the personalised text."""

from __future__ import annotations

import quopri

from hypothesis import example, given
from hypothesis import strategies as st

from digest.mail.message import QuotedBody

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

"""Editors' notes: Markdown in, safe HTML and readable plain text out, whatever is typed."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.digests.notes import TAGS, BadNote, check_note, note_html, note_text

MARKDOWNISH = st.lists(
    st.sampled_from(
        [*"ab <>/\"'=:()[]!*_`#>-\n", "script", "javascript:", "onerror", "img", "http://x.example", "<a href="]
    ),
    max_size=60,
).map("".join)


@given(MARKDOWNISH)
def test_no_note_can_bring_markup_that_runs_or_loads(source: str) -> None:
    html = note_html(source)
    assert set(re.findall(r"<\s*/?\s*([a-zA-Z][\w-]*)", html)) <= TAGS
    assert not re.search(r"<[^>]*\son\w+\s*=", html)
    assert 'href="javascript:' not in html.lower()
    assert "<img" not in html and "<script" not in html.lower()


@given(MARKDOWNISH)
def test_the_text_part_is_trimmed_plain_text(source: str) -> None:
    text = note_text(source)
    assert "\x00" not in text
    assert text == text.strip()


def test_markdown_keeps_its_shape_in_both_parts() -> None:
    source = "Hello **all**.\n\n- one\n- [two](https://ex.example/2)\n\n1. first\n2. second\n\n> quoted"
    html = note_html(source)
    assert "<strong>all</strong>" in html and "<li>one</li>" in html
    assert '<a href="https://ex.example/2" rel="noopener noreferrer">two</a>' in html
    assert note_text(source) == "Hello all.\n\n- one\n- two (https://ex.example/2)\n\n1. first\n2. second\n\n> quoted"


def test_raw_html_and_images_are_never_passed_on() -> None:
    html = note_html('<script>alert(1)</script> <b onclick="x()">b</b> ![pixel](https://tracker.example/p.gif)')
    assert "<script" not in html and "<b " not in html  # shown as text, never as markup
    assert "&lt;script&gt;" in html and "tracker.example" not in html
    assert note_text("![pixel](https://tracker.example/p.gif)") == "pixel"


def test_bad_notes_are_refused_with_a_reason() -> None:
    with pytest.raises(BadNote, match="at most 5000"):
        check_note("x" * 5001)
    with pytest.raises(BadNote, match="control characters"):
        check_note("a\x07b")
    assert check_note("  a  \r\nb  \n\n") == "a\nb"

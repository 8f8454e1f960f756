"""Sanitising, plain text and canonical links: what readers and mail clients will be shown."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from digest.feeds.normalise import canonical_link, clip, html_to_text, sanitise_html
from tests.inert import active_parts

ACTIVE = re.compile(
    r"<\s*(script|style|iframe|object|embed|img|svg|form|input|link|meta|base)\b|\son\w+\s*=|javascript:|vbscript:|data:",
    re.I,
)

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src="https://tracker.example/p.gif" width="1" height="1">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href=" JaVaScRiPt:alert(1)">x</a>',
    '<p onclick="steal()">x</p>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<span style="width: expression(alert(1))">x</span>',
    "<iframe src=https://evil.example></iframe>",
    "<svg onload=alert(1)><circle/></svg>",
    "<!-- <script>alert(1)</script> -->",
    '<form action="https://evil.example"><input name=q></form>',
    '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
    "<scr<script>ipt>alert(1)</script>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
]

html_fragments = st.lists(
    st.one_of(
        st.sampled_from(HOSTILE),
        st.text(max_size=30),
        st.sampled_from(["<p>", "</p>", "<a href='", "'>", "<"]),
    ),
    max_size=12,
).map("".join)


def test_hostile_fragments_come_out_inert() -> None:
    for fragment in HOSTILE:
        cleaned = sanitise_html(fragment)
        assert not ACTIVE.search(cleaned), fragment
        assert active_parts(cleaned) == []


@given(html_fragments)
def test_sanitised_html_never_contains_active_content(fragment: str) -> None:
    assert active_parts(sanitise_html(fragment)) == []


@given(html_fragments)
def test_sanitising_is_stable(fragment: str) -> None:
    once = sanitise_html(fragment)
    assert sanitise_html(once) == once


def test_links_keep_only_web_targets_and_get_rel_attributes() -> None:
    cleaned = sanitise_html('<p>Read <a href="https://court.example/ruling.pdf" onclick="x()">the ruling</a></p>')
    assert cleaned == (
        '<p>Read <a href="https://court.example/ruling.pdf" rel="noopener noreferrer nofollow">the ruling</a></p>'
    )


def test_plain_text_reads_naturally() -> None:
    text = html_to_text("<p>First&nbsp;paragraph.</p><p>Second &amp; last</p><script>var x = 1;</script>")
    assert text == "First paragraph. Second & last"


@given(st.text(max_size=2000), st.integers(min_value=40, max_value=500))
def test_plain_text_is_bounded_and_single_line(fragment: str, limit: int) -> None:
    text = html_to_text(fragment, limit)
    assert len(text) <= limit
    assert "\n" not in text and "\r" not in text
    assert "<script" not in text.lower() or "<" in fragment


def test_clip_cuts_at_a_word_with_an_ellipsis() -> None:
    assert clip("Regulator fines social network over children's data", 30) == "Regulator fines social…"


def test_canonical_links_drop_tracking_and_fragments() -> None:
    assert (
        canonical_link("HTTPS://News.Example:443/a/b?utm_source=rss&id=7&fbclid=xyz#comments")
        == "https://news.example/a/b?id=7"
    )
    assert canonical_link("/story/1?x=1&b", "https://site.example/feed.xml") == "https://site.example/story/1?x=1&b"


def test_google_alert_redirects_are_unwrapped() -> None:
    wrapped = "https://www.google.com/url?rct=j&sa=t&url=https://paper.example/deepfake-law%3Futm_medium%3Dx&ct=ga"
    assert canonical_link(wrapped) == "https://paper.example/deepfake-law"


def test_non_web_links_are_refused() -> None:
    for link in [
        "javascript:alert(1)",
        "data:text/html,x",
        "mailto:a@b.example",
        "ftp://x.example/",
        "http://",
        "http://user:pw@host.example/",
        "http://[bad",
    ]:
        assert canonical_link(link) is None, link


@given(st.text(max_size=200))
def test_canonical_links_are_web_links_and_stable(raw: str) -> None:
    link = canonical_link(raw, "https://base.example/feed")
    if link is not None:
        assert link.startswith(("http://", "https://"))
        assert canonical_link(link) == link

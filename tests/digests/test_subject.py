"""The subject line: the lead headline, then "+ N more on <topics>", within 78 characters with its
header name, cut only at word boundaries unless an ellipsis says so."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

from hypothesis import given
from hypothesis import strategies as st

from digest.digests.subject import LINE_CHARS, subject_line

words = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=30)
headlines = st.lists(words, min_size=1, max_size=30).map(" ".join)
ascii_headlines = st.lists(
    st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20), min_size=1, max_size=20
).map(" ".join)
topic_names = st.lists(st.sampled_from(["AI misuse", "Child protection", "Deepfakes", "Online safety law"]), max_size=4)


@given(headlines, st.integers(0, 500), topic_names.filter(bool))
def test_never_longer_than_a_header_line_and_never_cut_mid_word_silently(
    lead: str, more: int, topics: list[str]
) -> None:
    subject = subject_line(lead, more, topics, topics)
    assert len("Subject: " + subject) <= LINE_CHARS
    headline = " ".join(lead.split()) or "Untitled story"  # a headline of blanks only
    if more:
        assert f" + {more} more" in subject
        shown = subject[: subject.rindex(f" + {more} more")]
    else:
        shown = subject
    if shown != headline:  # shortened: an ellipsis says so, and what is shown is the headline's start
        # "…", or three dots in a subject of plain ASCII (one "…" would have it encoded and folded).
        ellipsis = "..." if subject.removesuffix("...").isascii() else "…"
        assert shown.endswith(ellipsis)
        kept = shown.removesuffix(ellipsis)
        assert headline.startswith(kept)
        # Cut at a word boundary, unless the first word alone is too long for the line.
        cut_inside = headline[len(kept)] not in " ,.;:-\u2013\u2014" if len(kept) < len(headline) else False
        assert not cut_inside or " " not in headline[: len(kept) + 1].strip()


# ASCII: a line that long would be folded, and a folded subject reads back with a leading space.
# (Python's own encoded-word handling of non-ASCII text loses spaces of its own, whatever the length.)
@given(ascii_headlines, st.integers(1, 50), topic_names.filter(bool))
def test_the_subject_reads_back_from_a_real_message_unchanged(lead: str, more: int, topics: list[str]) -> None:
    subject = subject_line(lead, more, topics, topics)
    message = EmailMessage()
    message["Subject"] = subject
    message.set_content("x")
    assert message_from_bytes(message.as_bytes(), policy=policy.default)["Subject"] == subject


def test_examples_people_see() -> None:
    assert subject_line("Court jails deepfake fraudster", 3, ["Deepfakes", "AI misuse"], []) == (
        "Court jails deepfake fraudster + 3 more on Deepfakes and AI misuse"
    )
    assert subject_line("Court jails deepfake fraudster", 0, [], []) == "Court jails deepfake fraudster"
    long = "Regulator fines social network over children's data in a landmark ruling on profiling"
    assert subject_line(long, 2, ["Child protection"], []) == (
        "Regulator fines social network over... + 2 more on Child protection"
    )
    assert subject_line(None, 0, [], ["Deepfakes"]) == "No new stories on Deepfakes"

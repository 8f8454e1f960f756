"""The digest's subject line: the lead headline, then "+ N more on <topics>", within 78 characters.

78 is the line length RFC 5322 recommends, and the whole header line "Subject: ..." keeps to it, so
the subject is never folded (a folded line reads back with a stray leading space in some programs).
A headline that does not fit is cut at a word boundary and ends with an ellipsis, never in the
middle of a word without one; the count of the other stories and their sections is kept whenever
it fits beside a readable part of the headline.
"""

from __future__ import annotations

LINE_CHARS = 78
MAX_CHARS = LINE_CHARS - len("Subject: ")
MIN_HEADLINE = 28  # below this the headline says too little: shorten the "more on" part instead
ELLIPSIS = "…"
# In a subject that is otherwise plain ASCII, three dots: one "…" makes the email package encode the
# line (RFC 2047), and it folds the encoded word onto a line of its own, which reads back with two
# spaces before it.
ASCII_ELLIPSIS = "..."


def subject_line(lead: str | None, more: int, topics: list[str], chosen: list[str]) -> str:
    """``lead``: the lead headline (None: nothing new); ``more``: how many other stories, in the
    sections ``topics``; ``chosen``: the reader's topics, for the subject of an empty digest."""
    if lead is None:
        return fit(f"No new stories on {join(chosen)}", MAX_CHARS)
    headline = " ".join(lead.split()) or "Untitled story"
    if more <= 0:
        return fit(headline, MAX_CHARS, _ellipsis(headline))
    # The sections' names as long as they leave enough of the headline, then the first of them, then none.
    tails = ((f" + {more} more on {join(topics)}", MIN_HEADLINE), (f" + {more} more on {topics[0]} and more", 36))
    for tail, least in tails:
        if len(tail) <= MAX_CHARS - least:
            return fit(headline, MAX_CHARS - len(tail), _ellipsis(headline + tail)) + tail
    tail = f" + {more} more"
    return fit(headline, MAX_CHARS - len(tail), _ellipsis(headline)) + tail


def _ellipsis(text: str) -> str:
    return ASCII_ELLIPSIS if text.isascii() else ELLIPSIS


def fit(text: str, limit: int, ellipsis: str = ELLIPSIS) -> str:
    """``text`` if it fits in ``limit`` characters, else cut at the last word boundary that leaves room
    for an ellipsis (a single word longer than the limit is cut inside, with the ellipsis)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ellipsis)]
    if text[len(cut)] != " " and " " in cut:
        cut = cut[: cut.rfind(" ")]
    cut = cut.rstrip(" ,.;:-\u2013\u2014")  # no dangling punctuation or dashes before the ellipsis
    return (cut or text[: limit - len(ellipsis)]) + ellipsis


def join(names: list[str]) -> str:
    """ "A", "A and B", "A, B and C"."""
    if not names:
        return "your topics"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]

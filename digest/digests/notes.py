"""Editors' notes: Markdown (CommonMark, raw HTML off) to safe HTML for the mail's HTML part, and to
plain text for its text part.

The HTML goes through nh3 with a small allow-list even though markdown-it already escapes raw HTML:
a note is typed by a person, and nothing in it may run, load or track in a reader's mail client.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

MAX_CHARS = 5000
TAGS = {"p", "br", "strong", "em", "a", "ul", "ol", "li", "blockquote", "code", "pre", "hr"}
SCHEMES = {"http", "https", "mailto"}

# No headings (the digest has its own) and no raw HTML; images are dropped by nh3 (no remote loads in
# mail) and become their description in the text part.
_MD = MarkdownIt("commonmark", {"html": False}).disable(["heading", "lheading", "html_block", "html_inline"])


class BadNote(ValueError):
    """A note that cannot be used; the message says why."""


def check_note(text: str) -> str:
    """The note as it will be stored: line ends normalised, trailing space trimmed, length bounded."""
    body = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")).strip()
    if len(body) > MAX_CHARS:
        raise BadNote(f"the note has {len(body)} characters; at most {MAX_CHARS} fit in a digest")
    if any(ord(c) < 32 and c not in "\n\t" for c in body):
        raise BadNote("the note contains control characters")
    return body


@lru_cache(maxsize=256)
def note_html(source: str) -> str:
    if not source:
        return ""
    html = _MD.render(source)
    return nh3.clean(
        html,
        tags=TAGS,
        attributes={"a": {"href"}},
        url_schemes=SCHEMES,
        link_rel="noopener noreferrer",
    ).strip()


@lru_cache(maxsize=256)
def note_text(source: str) -> str:
    """Plain text with the shape of the Markdown: paragraphs, "- " and "1. " items, "> " quotes,
    and links written as "text (address)"."""
    if not source:
        return ""
    lines: list[str] = []
    lists: list[list[int]] = []  # per open list: [next number, or 0 for bullets]
    quote = 0
    marker = ""
    for token in _MD.parse(source):
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            start = int(str(token.attrGet("start") or 1)) if kind == "ordered_list_open" else 0
            lists.append([start])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
            _gap(lines, lists)
        elif kind == "list_item_open":
            number = lists[-1][0]
            marker = f"{number}. " if number else "- "
            if number:
                lists[-1][0] += 1
        elif kind == "blockquote_open":
            quote += 1
        elif kind == "blockquote_close":
            quote -= 1
        elif kind in ("inline", "fence", "code_block"):
            text = _inline(token.children or []) if kind == "inline" else token.content.rstrip("\n")
            indent = "  " * max(len(lists) - 1, 0)
            prefix = "> " * quote
            for i, line in enumerate(text.split("\n")):
                lead = marker if i == 0 and marker else " " * len(marker) if marker else ""
                lines.append(f"{prefix}{indent}{lead}{line}".rstrip())
            marker = ""
        elif kind == "paragraph_close" and not token.hidden:
            _gap(lines, lists)
        elif kind == "hr":
            lines.extend(["----", ""])
    return "\n".join(lines).strip()


def _gap(lines: list[str], lists: list[list[int]]) -> None:
    if not lists and lines and lines[-1]:
        lines.append("")


def _inline(children: list[Token]) -> str:
    parts: list[str] = []
    hrefs: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline", "image"):
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
        elif child.type == "link_open":
            hrefs.append(str(child.attrGet("href") or ""))
            parts.append("")
        elif child.type == "link_close":
            href = hrefs.pop() if hrefs else ""
            if href and href not in parts[-1]:
                parts.append(f" ({href})")
    return "".join(parts)

"""What counts as active content in HTML we produce: anything a browser or mail client would act on."""

from __future__ import annotations

from html.parser import HTMLParser

SAFE_TAGS = {
    "a",
    "b",
    "blockquote",
    "br",
    "code",
    "em",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "ul",
    "abbr",
    "cite",
    "dd",
    "del",
    "dl",
    "dt",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "q",
    "s",
    "small",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
}


class Inspector(HTMLParser):
    """Collects what a browser or mail client would act on: tags, attributes, link targets."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in SAFE_TAGS:
            self.problems.append(f"tag {tag}")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "src", "srcset", "background", "formaction"):
                self.problems.append(f"attribute {name}")
            if name == "href" and not (value or "").lower().startswith(("http://", "https://", "mailto:")):
                self.problems.append(f"href {value!r}")


def active_parts(html: str) -> list[str]:
    inspector = Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector.problems


FORBIDDEN_IN_MAIL = frozenset(
    {"script", "iframe", "object", "embed", "img", "form", "input", "link", "base", "svg", "video", "audio"}
)


class MailInspector(HTMLParser):
    """What would be active in a whole email: scripts, frames, remote loads, handlers, bad links."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in FORBIDDEN_IN_MAIL:
            self.problems.append(f"tag {tag}")
        for name, value in attrs:
            text = (value or "").lower().replace(" ", "")
            if name.startswith("on"):
                self.problems.append(f"attribute {name}")
            if name in ("src", "srcset", "background", "formaction", "action"):
                self.problems.append(f"attribute {name}")
            if name == "href" and not text.startswith(("http://", "https://", "mailto:")):
                self.problems.append(f"href {value!r}")
            if name == "style" and ("url(" in text or "expression(" in text or "@import" in text):
                self.problems.append(f"style {value!r}")


def mail_problems(html: str) -> list[str]:
    inspector = MailInspector()
    inspector.feed(html)
    inspector.close()
    return inspector.problems

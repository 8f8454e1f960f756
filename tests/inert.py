"""What counts as active content in HTML we produce: anything a browser or mail client would act on."""

from __future__ import annotations

from html.parser import HTMLParser

SAFE_TAGS = {"a", "b", "blockquote", "br", "code", "em", "i", "li", "ol", "p", "pre", "strong", "ul", "abbr", "cite",
             "dd", "del", "dl", "dt", "h2", "h3", "h4", "h5", "h6", "hr", "q", "s", "small", "sub", "sup", "table",
             "tbody", "td", "tfoot", "th", "thead", "tr", "u"}  # fmt: skip


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

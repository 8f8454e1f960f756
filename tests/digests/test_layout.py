"""The digest's layout as mail clients get it: tables Outlook's Word engine lays out, CSS inlined for
Gmail, a dark scheme, a hidden preheader, a contents line, the lead first and larger, sections by
the reader's topics, and other outlets and earlier events of a story when grouping found them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from digest.config import Settings
from digest.digests.editions import Desk
from digest.digests.render import render_digest
from digest.digests.select import Candidate, Selection

NOW = datetime(2026, 12, 1, 7, tzinfo=UTC)
NAMES = {"ai-misuse": "AI misuse", "child-protection": "Child protection", "deepfakes": "Deepfakes"}
EDITION = "daily:2026-12-01"


def story(i: int, title: str, topics: set[str], **grouped: tuple[tuple[object, ...], ...]) -> Candidate:
    summary = f"What happened in story {i}, and why it matters."
    return Candidate(i, title, f"https://wire.example/{i}", summary, NOW, NOW, frozenset(topics), ("Wire",), **grouped)  # type: ignore[arg-type]


VOICE = story(1, "Court jails man who cloned his boss's voice", {"deepfakes", "ai-misuse"})
MINISTER = story(
    2,
    "Deepfake of minister used in scam ads",
    {"deepfakes", "ai-misuse"},
    also_reported=(("Daily Planet", "https://planet.example/a"), ("Wire Two", "https://two.example/b")),
    earlier=(
        ("Scam ads with the minister's face spread", datetime(2026, 11, 3, 9, tzinfo=UTC), "https://wire.example/0"),
    ),
)
CHATBOT = story(3, "Regulator fines chatbot maker", {"ai-misuse"})
SELECTION = Selection((("deepfakes", (VOICE, MINISTER)), ("ai-misuse", (CHATBOT,))))
CHOSEN = ["ai-misuse", "deepfakes"]


def body_of(html: str) -> str:
    return html.split("<body", 1)[1]


def test_built_for_outlook_gmail_and_apple_mail() -> None:
    html = render_digest(Settings(), NAMES, SELECTION, CHOSEN, "daily", EDITION).html
    assert "<!--[if mso]>" in html and "<o:OfficeDocumentSettings>" in html  # Word engine: fixed width, 96 dpi
    tables = re.findall(r"<table[^>]*>", html)
    assert tables and all('role="presentation"' in t and 'cellpadding="0"' in t for t in tables)
    assert 'width="640"' in html and 'bgcolor="#ffffff"' in html  # widths and colours as attributes
    assert not re.search(r"display:\s*(flex|grid)|position:\s*(absolute|fixed)", html)
    # Gmail reads style attributes only: every content rule is inlined; the one style block left holds
    # the phone and dark-scheme rules for the clients that read it.
    assert re.findall(r"<style[^>]*>", html) == ['<style data-css-inline="keep">']
    assert re.search(r'<h3 class="item-title" style="[^"]*font-size: 18px', html)
    assert '<meta name="color-scheme" content="light dark">' in html and "prefers-color-scheme: dark" in html
    assert "<img" not in html and "background-image" not in html  # no text in pictures, nothing to load


def test_preheader_contents_line_and_the_lead_first_and_larger() -> None:
    rendered = render_digest(Settings(), NAMES, SELECTION, CHOSEN, "daily", EDITION)
    body = body_of(rendered.html)
    # Hidden, first in the body: the line inboxes show after the subject.
    preheader = re.match(r'[^>]*>\s*<div style="display: none;[^"]*">([^<\u2007]*)', body)
    assert preheader is not None and preheader.group(1) == "Court jails man who cloned his boss's voice"
    assert "In this issue:</span> Deepfakes (2) · AI misuse (1)" in body
    assert "In this issue: Deepfakes (2) · AI misuse (1)" in rendered.text
    # The lead: first, as the larger heading; then the sections in the reader's order of topics.
    assert body.index('class="lead-title"') < body.index(">Deepfakes</h2>") < body.index(">AI misuse</h2>")
    assert re.search(r'class="lead-title" style="[^"]*font-size: 26px', body)
    assert body.count("cloned his boss") == 1 + 1  # the preheader and the lead; not again in its section
    assert rendered.subject == "Court jails man who cloned his... + 2 more on Deepfakes and AI misuse"


def test_an_editors_note_is_the_preheader_and_their_lead_comes_first() -> None:
    desk = Desk(EDITION, lead=CHATBOT.id, notes={"": "A **quiet** day in court.\n\nMore tomorrow."})
    rendered = render_digest(Settings(), NAMES, SELECTION, CHOSEN, "daily", EDITION, desk)
    body = body_of(rendered.html)
    assert re.search(r'<div style="display: none;[^"]*">A quiet day in court\.', body)
    assert body.index("<strong>quiet</strong>") < body.index("Lead story · AI misuse") < body.index("cloned his boss")
    assert rendered.text.index("Lead story · AI misuse\nRegulator fines chatbot maker\n=====") < rendered.text.index(
        "cloned his boss"
    )
    assert rendered.subject.startswith("Regulator fines chatbot maker + 2 more on Deepfakes")


def test_other_topics_are_shown_only_when_they_differ_from_the_section() -> None:
    only = Selection((("ai-misuse", (CHATBOT, story(4, "Chatbot told teen to self-harm", {"ai-misuse"}))),))
    text = render_digest(Settings(), NAMES, only, ["ai-misuse"], "daily", EDITION).text
    assert "Also in:" not in text  # every story is only AI misuse: its section says so already
    both = render_digest(Settings(), NAMES, SELECTION, CHOSEN, "daily", EDITION).text
    minister = both[both.index("Deepfake of minister") : both.index("== AI misuse ==")]
    assert "Also in: AI misuse" in minister and "Deepfakes" not in minister.replace("Deepfake of", "")


def test_other_outlets_and_earlier_events_of_a_story() -> None:
    rendered = render_digest(Settings(), NAMES, SELECTION, CHOSEN, "daily", EDITION)
    html, text = rendered.html, rendered.text
    assert re.search(
        r"Also reported by:</span> <a href=\"https://planet.example/a\"[^>]*>Daily Planet</a>, "
        r"<a href=\"https://two.example/b\"[^>]*>Wire Two</a>",
        html,
    )
    assert "Earlier in this story:" in html
    assert re.search(
        r"<a href=\"https://wire.example/0\"[^>]*>Scam ads with the minister(&#39;|')s face spread</a> · 3 Nov 2026",
        html,
    )
    assert "Also reported by: Daily Planet (https://planet.example/a), Wire Two (https://two.example/b)" in text
    assert (
        "Earlier in this story:\n- Scam ads with the minister's face spread, 3 Nov 2026 (https://wire.example/0)"
        in text
    )
    # Stories without them say nothing of the kind.
    assert html.count("Also reported by") == 1 and text.count("Earlier in this story") == 1


def test_the_public_copy_has_no_reader_links_and_the_mail_has_the_browser_link() -> None:
    settings = Settings(base_url="https://news.example")
    mail = render_digest(settings, NAMES, SELECTION, CHOSEN, "daily", EDITION)
    assert "View in the browser: https://news.example/archive/2026-12-01/ai-misuse+deepfakes" in mail.text
    assert "placeholder.invalid/unsubscribe" in mail.html and "You get this because" in mail.text
    web = render_digest(settings, NAMES, SELECTION, CHOSEN, "daily", EDITION, web=True)
    for part in (web.html, web.text):
        assert "placeholder.invalid" not in part and "You get this because" not in part
        assert "View in the browser" not in part and "https://news.example/archive/" in part
    assert 'style="display: none' not in web.html  # no preheader on a web page
    # A digest with nothing new (digest.send_empty) has no edition page to link to.
    empty = render_digest(settings, NAMES, Selection(()), CHOSEN, "daily", EDITION)
    assert "View in the browser" not in empty.text + empty.html and "No new stories" in empty.text

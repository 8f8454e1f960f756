"""Rendering a digest: Jinja2 (autoescaped) into an HTML part with inlined CSS and a plain-text part
with the same content, then personalising only the links.

Subscribers with the same topics, frequency and stories share one rendering: it is made once with
placeholder links, and each subscriber's copy replaces just the placeholders. No remote images, no
tracking pixels, no tracked links: story links go straight to the story.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import css_inline

from digest.config import Settings
from digest.digests.editions import Desk, edition_label
from digest.digests.notes import note_html, note_text
from digest.digests.select import Candidate, Selection
from digest.feeds.normalise import clip
from digest.mail.message import MessageTemplate, QuotedBody, build_message
from digest.subscribers.links import Links
from digest.templating import environment

# Placeholders that can appear nowhere else: the .invalid top-level domain is reserved.
PREFERENCES = "https://placeholder.invalid/preferences"
UNSUBSCRIBE = "https://placeholder.invalid/unsubscribe"
SUMMARY_CHARS = 300
LEAD_SUMMARY_CHARS = 700

_INLINER = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str
    template: MessageTemplate  # the MIME structure and shared headers, made once for the group
    text_body: QuotedBody  # both parts, encoded once; each copy only adds its own links
    html_body: QuotedBody


def render_digest(
    settings: Settings,
    topic_names: dict[str, str],
    selection: Selection,
    chosen: list[str],
    frequency: str,
    edition: str,
    desk: Desk | None = None,
) -> Rendered:
    """One rendering, shared by every subscriber with these topics, frequency, stories and decisions.

    The editors' lead story comes first, larger, when the digest contains it; their note for the
    edition opens the digest and a topic's note opens that topic's section, in both parts.
    """
    zone = ZoneInfo(settings.digest.timezone)
    notes = desk.notes if desk else {}

    def story_context(story: Candidate, chars: int = SUMMARY_CHARS) -> dict[str, object]:
        return {
            "title": story.title,
            "link": story.link,
            "sources": ", ".join(story.sources),
            "date": story.published_at.astimezone(zone).strftime("%-d %b %Y"),
            "summary": clip(story.summary, chars),
            "topics": ", ".join(topic_names.get(t, t) for t in topic_names if t in story.topics),
        }

    lead_id = desk.lead if desk else None
    lead = next((story for _t, stories in selection.groups for story in stories if story.id == lead_id), None)
    groups = []
    for topic, stories in selection.groups:
        rest = [story_context(story) for story in stories if story.id != lead_id]
        if rest or notes.get(topic):
            note = notes.get(topic, "")
            groups.append(
                {
                    "name": topic_names.get(topic, topic),
                    "stories": rest,
                    "note_html": note_html(note),
                    "note_text": note_text(note),
                }
            )
    subject = digest_subject(topic_names, selection, chosen)
    context = {
        "subject": subject,
        "sender": settings.mail.from_name,
        "frequency": frequency,
        "edition_label": edition_label(edition),
        "groups": groups,
        "lead": story_context(lead, LEAD_SUMMARY_CHARS) if lead else None,
        "note_html": note_html(notes.get("", "")),
        "note_text": note_text(notes.get("", "")),
        "chosen": ", ".join(topic_names.get(t, t) for t in chosen),
        "preferences_url": PREFERENCES,
        "unsubscribe_url": UNSUBSCRIBE,
        "privacy_url": settings.policy_url,
        "contact_line": settings.mail.contact_line,
    }
    env = environment("email")
    html = _INLINER.inline(env.get_template("digest.html").render(**context))
    template = MessageTemplate(
        sender=(settings.mail.from_name, settings.mail.from_address),
        subject=subject,
        reply_to=settings.mail.reply_to,
        headers={
            "List-Id": f"{settings.mail.from_name} <{settings.mail.list_id}>",
            "List-Unsubscribe": f"<{UNSUBSCRIBE}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Feedback-ID": feedback_id(settings, edition),
        },
    )
    text = env.get_template("digest.txt").render(**context)
    placeholders = (PREFERENCES, UNSUBSCRIBE)
    return Rendered(subject, text, html, template, QuotedBody(text, placeholders), QuotedBody(html, placeholders))


def digest_subject(topic_names: dict[str, str], selection: Selection, chosen: list[str]) -> str:
    count = selection.count
    if count == 0:
        return f"No new stories on {_join([topic_names.get(t, t) for t in chosen])}"
    names = [topic_names.get(topic, topic) for topic, _stories in selection.groups]
    return f"{count} new {'story' if count == 1 else 'stories'} on {_join(names)}"


def digest_bytes(settings: Settings, rendered: Rendered, to: str, links: Links, edition: str, link_key: str) -> bytes:
    """A subscriber's copy, ready to send: their links in both parts and in List-Unsubscribe."""
    if not to.isascii():  # an internationalised address needs the email package's header handling
        return digest_message(settings, rendered, to, links, edition, link_key).as_bytes()
    values = {PREFERENCES: links.preferences, UNSUBSCRIBE: links.unsubscribe}
    return rendered.template.render(
        to, message_id(settings, edition, link_key), rendered.text_body, rendered.html_body, values
    )


def digest_message(
    settings: Settings, rendered: Rendered, to: str, links: Links, edition: str, link_key: str
) -> EmailMessage:
    """A subscriber's copy as an EmailMessage (previews, and addresses outside ASCII)."""
    text, html = _personalise(rendered, links)
    return build_message(
        sender=(settings.mail.from_name, settings.mail.from_address),
        to=to,
        subject=rendered.subject,
        text=text,
        html=html,
        reply_to=settings.mail.reply_to,
        message_id=message_id(settings, edition, link_key),
        headers={
            "List-Id": f"{settings.mail.from_name} <{settings.mail.list_id}>",
            "List-Unsubscribe": f"<{links.unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Feedback-ID": feedback_id(settings, edition),
        },
    )


def feedback_id(settings: Settings, edition: str) -> str:
    """Gmail's feedback-loop header, ``campaign:customer:type:sender``: complaint rates per edition."""
    campaign = edition.replace(":", ".")  # its fields are separated by colons
    return f"{campaign}:digest:newsletter:{settings.mail.list_id.replace(':', '.')}"


def message_id(settings: Settings, edition: str, link_key: str) -> str:
    """Stable for a (subscriber, edition): a message sent twice after a crash is recognised as one."""
    token = hashlib.sha256(f"{link_key}:{edition}".encode()).hexdigest()[:32]
    domain = settings.mail.from_address.rpartition("@")[2] or "localhost"
    return f"<{edition.replace(':', '.')}.{token}@{domain}>"


def _personalise(rendered: Rendered, links: Links) -> tuple[str, str]:
    text = rendered.text.replace(PREFERENCES, links.preferences).replace(UNSUBSCRIBE, links.unsubscribe)
    html = rendered.html.replace(PREFERENCES, links.preferences).replace(UNSUBSCRIBE, links.unsubscribe)
    return text, html


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]

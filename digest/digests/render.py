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
from digest.digests.archive_paths import archive_path, group_key
from digest.digests.editions import Desk, edition_label
from digest.digests.notes import note_html, note_text
from digest.digests.select import Candidate, Selection
from digest.digests.subject import fit, subject_line
from digest.feeds.normalise import clip
from digest.mail.message import MessageTemplate, QuotedBody, build_message, wire_form
from digest.subscribers.links import Links
from digest.templating import environment

# Placeholders that can appear nowhere else: the .invalid top-level domain is reserved.
PREFERENCES = "https://placeholder.invalid/preferences"
UNSUBSCRIBE = "https://placeholder.invalid/unsubscribe"
SUMMARY_CHARS = 300
LEAD_SUMMARY_CHARS = 700
PREHEADER_CHARS = 140

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
    *,
    web: bool = False,
) -> Rendered:
    """One rendering, shared by every subscriber with these topics, frequency, stories and decisions;
    the same in the mail, the editors' preview and the archive.

    The edition's note opens the digest (and is the preheader, the line inboxes show after the
    subject); a topic's note opens that topic's section. ``web``: the public copy for the archive,
    without the reader's links and without saying why anyone gets it.
    """
    notes = desk.notes if desk else {}
    lead, lead_context, groups = _sections(ZoneInfo(settings.digest.timezone), topic_names, selection, desk)
    names = [topic_names.get(t, t) for t in chosen]
    edition_note = notes.get("", "")
    first_line = note_text(edition_note).split("\n", 1)[0]
    sections = [str(g["name"]) for g in groups if g["stories"]]
    subject = subject_line(lead.title if lead else None, selection.count - 1, sections, names)
    context = {
        "subject": subject,
        "preheader": fit(first_line or (lead.title if lead else ""), PREHEADER_CHARS),
        "contents": " · ".join(f"{topic_names.get(t, t)} ({len(stories)})" for t, stories in selection.groups),
        "web": web,
        "archive_url": archive_url(settings, edition, chosen, topic_names),
        "archive_index": settings.base_url.rstrip("/") + "/archive/" if settings.archive.enabled else None,
        "sender": settings.mail.from_name,
        "frequency": frequency,
        "edition_label": edition_label(edition),
        "groups": groups,
        "lead": lead_context,
        "note_html": note_html(edition_note),
        "note_text": note_text(edition_note),
        "chosen": ", ".join(names),
        "preferences_url": PREFERENCES,
        "unsubscribe_url": UNSUBSCRIBE,
        "signup_url": settings.base_url.rstrip("/") + "/",
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


def _sections(
    zone: ZoneInfo, topic_names: dict[str, str], selection: Selection, desk: Desk | None
) -> tuple[Candidate | None, dict[str, object] | None, list[dict[str, object]]]:
    """The lead (the editors' when the digest contains it, else the newest story of the first
    section) and the sections without it, each with its topic's note."""
    notes = desk.notes if desk else {}

    def story_context(story: Candidate, section: str | None, chars: int = SUMMARY_CHARS) -> dict[str, object]:
        # The section already names one topic: only the story's other topics are news to the reader.
        others = [topic_names.get(t, t) for t in topic_names if t in story.topics and t != section]
        return {
            "title": story.title,
            "link": story.link,
            "sources": ", ".join(story.sources),
            "date": story.published_at.astimezone(zone).strftime("%-d %b %Y"),
            "summary": clip(story.summary, chars),
            "topics": ", ".join(others),
            "also_reported": [{"outlet": outlet, "url": url or ""} for outlet, url in story.also_reported],
            "earlier": [
                {"title": title, "date": day.astimezone(zone).strftime("%-d %b %Y"), "url": url or ""}
                for title, day, url in story.earlier
            ],
        }

    placed = [(topic, story) for topic, stories in selection.groups for story in stories]
    picked = desk.lead if desk else None
    lead_section, lead = next(((t, s) for t, s in placed if picked in s.ids), placed[0] if placed else (None, None))
    groups: list[dict[str, object]] = []
    for topic, stories in selection.groups:
        rest = [story_context(story, topic) for story in stories if story is not lead]
        note = notes.get(topic, "")
        if rest or note:
            name = topic_names.get(topic, topic)
            groups.append({"name": name, "stories": rest, "note_html": note_html(note), "note_text": note_text(note)})
    if lead is None:
        return None, None, groups
    lead_context = story_context(lead, lead_section, LEAD_SUMMARY_CHARS)
    section_name = topic_names.get(lead_section or "", lead_section or "")
    lead_context["kicker"] = f"Lead story · {section_name}" if picked in lead.ids else section_name
    return lead, lead_context, groups


def archive_url(settings: Settings, edition: str, chosen: list[str], topic_names: dict[str, str]) -> str | None:
    """The public web copy of this edition for this topic group; None when the archive is off."""
    if not settings.archive.enabled:
        return None
    return settings.base_url.rstrip("/") + archive_path(edition, group_key(chosen, topic_names))


def digest_bytes(
    settings: Settings,
    rendered: Rendered,
    to: str,
    links: Links,
    edition: str,
    link_key: str,
    ident: str | None = None,
    *,
    wire: bool = False,
) -> bytes:
    """A subscriber's copy, ready to send: their links in both parts and in List-Unsubscribe
    (``ident``: its Message-ID, when the caller has made it already; ``wire``: in the form SMTP
    sends after DATA, ``message.wire_form``)."""
    if not to.isascii():  # an internationalised address needs the email package's header handling
        data = digest_message(settings, rendered, to, links, edition, link_key).as_bytes()
        return wire_form(data) if wire else data
    values = {PREFERENCES: links.preferences, UNSUBSCRIBE: links.unsubscribe}
    ident = ident or message_id(settings, edition, link_key)
    render = rendered.template.render_wire if wire else rendered.template.render
    return render(to, ident, rendered.text_body, rendered.html_body, values)


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

"""The public archive: each sent edition per topic group as a web page, and one Atom feed per topic.

A page is the digest itself, rendered by ``render_digest`` in its public form, so the editors'
lead, notes and exclusions look exactly as they do in the mail and the preview; it carries no reader's
links and says nothing about who got it. A group that was sent is shown as it was recorded; a single
topic's page (what the Atom feed links to) is derived from everything the edition carried.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from digest.config import Settings
from digest.digests import archive_store, review
from digest.digests.archive_paths import archive_path, feed_path, group_key
from digest.digests.editions import edition_label, frequency_of
from digest.digests.render import Rendered, render_digest
from digest.digests.select import Selection, load_by_ids, regroup
from digest.tagging.rules import Ruleset

ATOM = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True, slots=True)
class Page:
    rendered: Rendered
    edition: str
    topics: list[str]
    sent_at: datetime


def edition_page(
    session: Session, settings: Settings, ruleset: Ruleset, edition: str, topics: list[str]
) -> Page | None:
    """The web copy of an edition for a topic group; None when the edition carried nothing for it."""
    names = {t.slug: t.name for t in ruleset.topics}
    group = group_key(topics, ruleset.group_order)
    recorded = archive_store.issue(session, edition, group)
    rows = [recorded] if recorded else archive_store.issues_of(session, edition)
    if not rows:
        return None
    ids = list(dict.fromkeys(i for row in rows for i in archive_store.story_ids(row)))
    stories = load_by_ids(session, ids) if ids else {}
    chosen = [stories[i] for i in ids if i in stories and (recorded or stories[i].topics & set(topics))]
    desk = review.desk_of(session, edition)
    selection = regroup(ruleset.group_order, chosen, topics, desk.excluded)
    if not recorded:  # derived from other groups: as many per topic as a digest carries
        selection = _capped(selection, settings.digest.max_stories_per_topic)
        if not selection.count:
            return None
    rendered = render_digest(settings, names, selection, topics, frequency_of(edition), edition, desk, web=True)
    return Page(rendered, edition, topics, min(row.first_sent_at for row in rows))


def archive_index(session: Session, settings: Settings, ruleset: Ruleset) -> list[dict[str, object]]:
    """The recent editions, newest first, each with its topic groups' pages."""
    names = {t.slug: t.name for t in ruleset.topics}
    editions = archive_store.recent_editions(session, settings.archive.editions)
    by_edition: dict[str, list[dict[str, str]]] = {e: [] for e in editions}
    for row in archive_store.issues_in(session, editions):
        topics = row.topic_group.split("+")
        by_edition[row.edition].append(
            {"path": archive_path(row.edition, row.topic_group), "names": " + ".join(names.get(t, t) for t in topics)}
        )
    return [
        {"edition": e, "label": edition_label(e), "frequency": frequency_of(e), "groups": groups}
        for e, groups in by_edition.items()
    ]


def topic_feed(session: Session, settings: Settings, ruleset: Ruleset, topic: str) -> bytes:
    """Atom: one entry per recent edition that carried this topic, its stories as the content."""
    name = next(t.name for t in ruleset.topics if t.slug == topic)
    base = settings.base_url.rstrip("/")
    feed = ET.Element("feed", xmlns=ATOM)
    ET.SubElement(feed, "id").text = base + feed_path(topic)
    ET.SubElement(feed, "title").text = f"{settings.mail.from_name}: {name}"
    ET.SubElement(feed, "link", rel="self", href=base + feed_path(topic), type="application/atom+xml")
    ET.SubElement(feed, "link", rel="alternate", href=base + "/archive/", type="text/html")
    ET.SubElement(ET.SubElement(feed, "author"), "name").text = settings.mail.from_name
    updated = ET.SubElement(feed, "updated")
    newest = datetime(1970, 1, 1, tzinfo=UTC)
    entries = 0
    for edition in archive_store.recent_editions(session, settings.archive.editions):
        if entries >= settings.archive.feed_entries:
            break
        page = edition_page(session, settings, ruleset, edition, [topic])
        if page is None:
            continue
        entries += 1
        newest = max(newest, page.sent_at)
        url = base + archive_path(edition, topic)
        entry = ET.SubElement(feed, "entry")
        ET.SubElement(entry, "id").text = url
        ET.SubElement(entry, "title").text = f"{name}, {edition_label(edition)} ({frequency_of(edition)})"
        ET.SubElement(entry, "link", rel="alternate", href=url, type="text/html")
        ET.SubElement(entry, "updated").text = _stamp(page.sent_at)
        ET.SubElement(entry, "summary").text = page.rendered.subject
        ET.SubElement(entry, "content", type="html").text = _body(page.rendered.html)
    updated.text = _stamp(newest)
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def _capped(selection: Selection, per_topic: int) -> Selection:
    return Selection(tuple((t, stories[:per_topic]) for t, stories in selection.groups))


def _body(html: str) -> str:
    """What is inside <body>: feed readers show the content in their own page."""
    start = html.find("<body")
    start = html.find(">", start) + 1 if start >= 0 else 0
    end = html.rfind("</body>")
    return html[start : end if end >= 0 else len(html)].strip()


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

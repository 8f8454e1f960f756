""" "Earlier in this story": the earlier events of an item's thread, shown only to a reader who was
sent them. Pure; the thread's stories and what the reader received are looked up by the caller.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from digest.digests.select import Candidate, Selection
from digest.events.view import ThreadStory

# A long case (charge, plea, trial, sentencing, appeal) would otherwise push the item down the mail.
MAX_EARLIER = 3


def earliest_needed(selection: Selection, threads: Mapping[str, Sequence[ThreadStory]]) -> datetime | None:
    """The oldest earlier story any item of this selection could mention (None: no item continues a
    thread), so the caller reads the readers' deliveries only as far back as that."""
    found = [
        story.published
        for _topic, items in selection.groups
        for item in items
        for story in threads.get(item.thread, ())
        if story.event != item.event and story.published < item.published_at
    ]
    return min(found, default=None)


def with_earlier(
    selection: Selection, threads: Mapping[str, Sequence[ThreadStory]], received: Collection[int]
) -> Selection:
    """The selection with each item's "earlier" filled from the thread's earlier events this reader
    was sent (one line per event: the report they got, oldest first)."""
    if not received:
        return selection
    groups = tuple(
        (topic, tuple(_item(item, threads, received) for item in items)) for topic, items in selection.groups
    )
    return Selection(groups)


def _item(item: Candidate, threads: Mapping[str, Sequence[ThreadStory]], received: Collection[int]) -> Candidate:
    lines: dict[str, tuple[str, datetime, str | None]] = {}
    for story in threads.get(item.thread, ()):
        if story.event == item.event or story.published >= item.published_at or story.id not in received:
            continue
        lines.setdefault(story.event, (story.title, story.published, story.link))
    if not lines:
        return item
    return replace(item, earlier=tuple(sorted(lines.values(), key=lambda line: line[1])[-MAX_EARLIER:]))

"""Events as digests see them: each story's event and thread with editors' decisions applied, which
report editors chose to lead its event, and the stories of a thread in order.

Only the stories asked about and their events' and threads' other stories are read, never the whole
table, so a digest pays for the stories it carries.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from digest.events import store
from digest.events.decisions import Membership, apply_decisions


@dataclass(frozen=True, slots=True)
class Placement:
    event: str
    thread: str
    # > 0 when an editor chose this story to lead its event; a later choice ranks higher.
    headline: int = 0


@dataclass(frozen=True, slots=True)
class ThreadStory:
    id: int
    event: str
    title: str
    link: str | None
    published: datetime


def _final(session: Session, story_ids: Collection[int], *, whole_threads: bool = True) -> dict[int, Membership]:
    """Memberships with editors' decisions applied: of these stories and the stories the decisions
    name, and (``whole_threads``) of every story sharing an event or a thread with them."""
    read = store.memberships_around if whole_threads else store.memberships_with_named
    return apply_decisions(read(session, story_ids), store.decisions(session))


def placements(session: Session, story_ids: Collection[int]) -> dict[int, Placement]:
    """Where these stories are (stories not grouped yet are left out)."""
    final = _final(session, story_ids, whole_threads=False)
    chosen = store.headlines(session)
    return {i: Placement(final[i].event, final[i].thread, chosen.get(i, 0)) for i in story_ids if i in final}


def thread_stories(session: Session, story_ids: Collection[int]) -> dict[str, list[ThreadStory]]:
    """Every story of the threads these stories are in, oldest first, keyed by thread."""
    final = _final(session, story_ids)
    wanted = {final[i].thread for i in story_ids if i in final}
    members = [i for i, m in final.items() if m.thread in wanted]
    threads: dict[str, list[ThreadStory]] = {thread: [] for thread in wanted}
    for head in store.heads(session, members):
        m = final[head.id]
        threads[m.thread].append(ThreadStory(head.id, m.event, head.title, head.link, head.published))
    return threads

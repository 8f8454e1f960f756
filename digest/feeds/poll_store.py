"""Feeds' poll state: which feeds are due (and taking them for a poll), and what each poll found.

Status, error count, validators (ETag, Last-Modified) and the next poll time are written together
with the feed's stories, in the same transaction, so a crash never leaves a feed marked as polled
without its stories: the next poll simply fetches it again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, Table, bindparam, case, exists, func, select, update
from sqlalchemy.orm import Session

from digest.feeds.models import Feed
from digest.feeds.store import same_feed

_FEEDS: Table = Feed.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class PollRecord:
    """The outcome of one poll of one feed."""

    feed_id: int
    now: datetime
    next_poll_at: datetime
    status: str
    error: str | None = None
    moved_to: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None
    site_url: str | None = None


def claim_due_feeds(
    session: Session,
    now: datetime,
    lease: timedelta,
    *,
    include_not_due: bool = False,
    only: Iterable[int] | None = None,
) -> list[Feed]:
    """Feeds to poll now (due ones, or every active one), taken for ``lease``: other pollers skip them
    (FOR UPDATE SKIP LOCKED, then a next poll time pushed past the lease); disabled and paused never."""
    query = select(Feed).where(Feed.status.not_in(("disabled", "paused"))).order_by(Feed.next_poll_at, Feed.id)
    if not include_not_due:
        query = query.where(Feed.next_poll_at <= now)
    if only is not None:
        query = query.where(Feed.id.in_(list(only)))
    feeds = list(session.scalars(query.with_for_update(skip_locked=True)))
    for feed in feeds:
        feed.next_poll_at = now + lease  # the poll's outcome sets the real time; a dead poller's feeds come back
    session.flush()
    return feeds


def record_poll(session: Session, feed_id: int, **outcome: Any) -> None:
    """Store the outcome of one poll (the fields of ``PollRecord``): one UPDATE."""
    record_polls(session, [PollRecord(feed_id, **outcome)])


def record_polls(session: Session, records: Sequence[PollRecord]) -> None:
    """Store the outcomes of several polls: one UPDATE statement per kind of outcome, sent with all
    its feeds' values at once (the drivers send those without waiting for each feed's answer)."""
    by_shape: dict[tuple[str | bool, ...], tuple[dict[str, ColumnElement[Any]], list[dict[str, Any]]]] = {}
    for record in records:
        sets, values = _assignments(session, record)
        # Same columns, same expressions (an error count is either reset or incremented, by status).
        shape: tuple[str | bool, ...] = (*sets, record.status == "ok")
        by_shape.setdefault(shape, (sets, []))[1].append(values)
    for sets, many in by_shape.values():
        session.execute(update(_FEEDS).where(_FEEDS.c.id == bindparam("p_feed_id")).values(sets), many)


def _assignments(session: Session, record: PollRecord) -> tuple[dict[str, ColumnElement[Any]], dict[str, Any]]:
    """The SET clause for one record (column -> expression of parameters) and those parameters.

    Records with the same columns get the same expressions, so ``record_polls`` can send them as one
    statement with many rows of values.
    """
    sets: dict[str, ColumnElement[Any]] = {}
    values: dict[str, Any] = {"p_feed_id": record.feed_id}

    def put(name: str, value: Any) -> None:
        sets[name] = bindparam(f"p_{name}", type_=_FEEDS.c[name].type)
        values[f"p_{name}"] = value

    put("last_polled_at", record.now)
    put("next_poll_at", record.next_poll_at)
    put("status", record.status)
    if record.status == "ok":
        put("error_count", 0)
        put("last_error", None)
        put("last_success_at", record.now)
    elif record.error is not None:
        sets["error_count"] = _FEEDS.c.error_count + 1
        put("last_error", record.error)
    if record.moved_to and same_feed(session, record.moved_to, other_than=record.feed_id) is None:
        # Never onto another feed's address, however it is spelled.
        other = _FEEDS.alias("other")
        moved = bindparam("p_moved_to", type_=String())
        taken = exists().where(other.c.url == moved)  # by this feed (no move) or by another one
        sets["url"] = case((taken, _FEEDS.c.url), else_=moved)
        values["p_moved_to"] = record.moved_to
    if record.etag is not None or record.last_modified is not None:
        put("etag", record.etag)
        put("last_modified", record.last_modified)
    if record.title:
        title = bindparam("p_title", type_=String())
        sets["title"] = case((func.coalesce(_FEEDS.c.title, "") == "", title), else_=_FEEDS.c.title)
        values["p_title"] = record.title
    if record.site_url:
        put("site_url", record.site_url)
    return sets, values

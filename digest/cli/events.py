"""``digest events``: group JSON lines of stories into events and threads (stdin -> stdout)."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from typing import Any

import click

from digest.cli.context import AppContext, BadInput, pass_app
from digest.db.base import iso, utcnow
from digest.db.engine import session_scope
from digest.events.group import (
    WINDOW_DAYS,
    CorrectionRefused,
    correct,
    events_since,
    group_new_stories,
    regroup_window,
)
from digest.events.grouping import group_stories
from digest.events.measure import parse_published
from digest.events.scoring import Story


@click.group(invoke_without_command=True)
@click.pass_context
def events(ctx: click.Context) -> None:
    """Events and threads: group JSON lines from stdin, or list, regroup, merge and split stored ones.

    Without a subcommand: {"id", "title", "summary", "published", "source"} lines in ->
    {"id", "event", "thread", "why"} lines out.

    One output line per input line, in order; stories with equal "event" keys report one event, equal
    "thread" keys one case. A line that cannot be read gives {"line": N, "error": "..."} in its place.
    """
    if ctx.invoked_subcommand is not None:
        return
    lines: list[tuple[int, Any, Story | str]] = []
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            story_id, story = _read_story(line, number)
            lines.append((number, story_id, story))
        except ValueError as exc:
            lines.append((number, None, str(exc)))
    assignments = iter(group_stories([s for _, _, s in lines if isinstance(s, Story)]))
    out = sys.stdout
    for number, story_id, item in lines:
        if isinstance(item, str):
            out.write(json.dumps({"line": number, "error": item}) + "\n")
            continue
        a = next(assignments)
        why = [_explain(r) for r in a.why]
        out.write(
            json.dumps({"id": story_id, "event": a.event, "thread": a.thread, "why": why}, ensure_ascii=False) + "\n"
        )


def _read_story(line: str, number: int) -> tuple[Any, Story]:
    try:
        item: Any = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(item, dict):
        raise ValueError("expected a JSON object")
    if not isinstance(item.get("title"), str) or not item["title"].strip():
        raise ValueError("missing 'title'")
    for key in ("summary", "source"):
        if item.get(key) is not None and not isinstance(item[key], str):
            raise ValueError(f"'{key}' must be a string")
    published = item.get("published")
    if not isinstance(published, str):
        raise ValueError("missing 'published' (an ISO 8601 time such as 2026-03-01T09:00:00Z)")
    try:
        moment = parse_published(published)
    except ValueError:
        raise ValueError(f"'published' is not an ISO 8601 time: {published!r}") from None
    # Keys must be unique even when ids repeat or are missing: the line number makes them so, and
    # event and thread keys ("e:12", "t:12") name the line of their first story.
    source = str(item.get("source") or "")
    return item.get("id"), Story(str(number), item["title"], item.get("summary") or "", moment, source)


def _explain(reason: dict[str, object]) -> str:
    parts = [f"{reason['kind']} as line {reason['with']} (score {reason['score']})"]
    for label in ("names", "numbers", "phrases"):
        values = reason.get(label)
        if isinstance(values, list) and values:
            parts.append(f"shared {label}: " + ", ".join(str(v) for v in values))
    if isinstance(meaning := reason.get("meaning"), float):
        parts.append(f"meaning {round(meaning * 100)} % alike")
    return "; ".join(parts)


@events.command("list")
@click.option("--days", default=WINDOW_DAYS, show_default=True, type=click.IntRange(1, 3650), help="How far back.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for other tools.")
@pass_app
def events_list(app: AppContext, days: int, as_json: bool) -> None:
    """Events of the recent stories, newest first, with their thread and why each story joined."""
    with session_scope(app.engine()) as session:
        found = events_since(session, utcnow() - timedelta(days=days))
    rows = [
        {
            "event": e.key,
            "thread": e.thread,
            "stories": [{"id": s.id, "title": s.title, "published": iso(s.published), "why": s.why} for s in e.stories],
        }
        for e in found
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for event in found:
        click.echo(f"{event.key}  (thread {event.thread})")
        for story in event.stories:
            click.echo(f"  {story.id:>6}  {story.published:%Y-%m-%d}  {story.title}")


@events.command("regroup")
@click.option("--days", default=WINDOW_DAYS, show_default=True, type=click.IntRange(1, 3650), help="How far back.")
@click.option("--all", "everything", is_flag=True, help="Group the window again from scratch, not only new stories.")
@pass_app
def events_regroup(app: AppContext, days: int, everything: bool) -> None:
    """Group the stories of the window that have no event yet (--all: all of them again).

    Editors' merges and splits are kept: they are applied on top of every grouping.
    """
    with session_scope(app.engine()) as session:
        if everything:
            count = regroup_window(session, utcnow(), window_days=days)
        else:
            count = group_new_stories(session, utcnow(), window_days=days)
    click.echo(f"grouped {count} stories")


@events.command("merge")
@click.argument("first", type=int)
@click.argument("second", type=int)
@click.option("--thread", "level", flag_value="thread", help="Merge the two threads instead of the two events.")
@click.option("--event", "level", flag_value="event", default=True, hidden=True)
@pass_app
def events_merge(app: AppContext, first: int, second: int, level: str) -> None:
    """Put the event of story SECOND into the event of story FIRST (--thread: their threads)."""
    _correct(app, "merge", level, first, second)
    click.echo(f"merged the {level} of story {second} into the {level} of story {first}")


@events.command("split")
@click.argument("story_id", type=int)
@click.option("--thread", "level", flag_value="thread", help="Take the story's event out of its thread instead.")
@click.option("--event", "level", flag_value="event", default=True, hidden=True)
@pass_app
def events_split(app: AppContext, story_id: int, level: str) -> None:
    """Take story STORY_ID out of its event into one of its own (--thread: its event out of its thread)."""
    _correct(app, "split", level, story_id, None)
    what = "its own event" if level == "event" else "a thread of its own"
    click.echo(f"story {story_id} now stands in {what}")


@events.command("headline")
@click.argument("story_id", type=int)
@pass_app
def events_headline(app: AppContext, story_id: int) -> None:
    """Make story STORY_ID's headline and summary the ones its event shows in digests."""
    _correct(app, "headline", "event", story_id, None)
    click.echo(f"story {story_id} now leads its event in digests")


def _correct(app: AppContext, kind: str, level: str, story_id: int, other: int | None) -> None:
    try:
        with session_scope(app.engine()) as session:
            correct(session, kind, level, story_id, other, utcnow())
    except CorrectionRefused as exc:
        raise BadInput(str(exc)) from None

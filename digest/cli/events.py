"""``digest events``: group JSON lines of stories into events and threads (stdin -> stdout)."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from digest.events.grouping import Story, group_stories
from digest.events.measure import parse_published


@click.group(invoke_without_command=True)
@click.pass_context
def events(ctx: click.Context) -> None:
    """Group JSON lines from stdin: {"id", "title", "summary", "published", "source"} ->
    {"id", "event", "thread", "why"}.

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
    return item.get("id"), Story(str(number), item["title"], item.get("summary") or "", moment)


def _explain(reason: dict[str, object]) -> str:
    parts = [f"{reason['kind']} as line {reason['with']} (score {reason['score']})"]
    for label in ("names", "numbers", "phrases"):
        values = reason.get(label)
        if isinstance(values, list) and values:
            parts.append(f"shared {label}: " + ", ".join(str(v) for v in values))
    return "; ".join(parts)

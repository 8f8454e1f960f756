"""``digest stories list``: what has been stored, newest first, with where each story came from."""

from __future__ import annotations

import json

import click
from rich.table import Table

from digest.cli.context import AppContext, pass_app
from digest.db.engine import session_scope
from digest.feeds import store
from digest.feeds.models import Story


@click.group()
def stories() -> None:
    """The stories found in the feeds."""


@stories.command("list")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000), help="How many, newest first.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for other tools.")
@pass_app
def stories_list(app: AppContext, limit: int, as_json: bool) -> None:
    """The newest stories."""
    with session_scope(app.engine()) as session:
        found = store.list_stories(session, limit=limit)
        rows = [story_json(story) for story in found]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no stories yet: add feeds and run 'digest poll'")
        return
    app.console.print(stories_table(found))


def stories_table(found: list[Story]) -> Table:
    table = Table("id", "published", "title", "source")
    for story in found:
        table.add_row(
            str(story.id),
            story.published_at.strftime("%Y-%m-%d"),
            story.title,
            ", ".join(s.feed.title or s.feed.url for s in story.sources),
        )
    return table


def story_json(story: Story) -> dict[str, object]:
    return {
        "id": story.id,
        "title": story.title,
        "link": story.link,
        "published": story.published_at.isoformat(timespec="seconds"),
        "published_guessed": story.published_guessed,
        "first_seen": story.first_seen_at.isoformat(timespec="seconds"),
        "author": story.author,
        "summary": story.summary_text,
        "topics": [],
        "why": {},
        "sources": [
            {"feed_url": s.feed.url, "feed_title": s.feed.title, "guid": s.guid, "link": s.link}
            for s in sorted(story.sources, key=lambda s: s.id)
        ],
    }

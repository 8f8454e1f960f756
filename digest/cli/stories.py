"""``digest stories list|tag``: stored stories with their topics and sources; editors' topic decisions."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from digest.cli.context import AppContext, BadInput, UserError, pass_app, session_scope
from digest.cli.tables import show_table
from digest.feeds import views
from digest.feeds.listing_store import StoryListing, list_story_listings

# The ORM and the tagger's editing are imported by "stories tag": "stories list" reads through the
# database driver itself (AppContext.reading), and needs only the topics' names from the rules file.


@click.group()
def stories() -> None:
    """The stories found in the feeds."""


@stories.command("list")
@click.option("--topic", help="Only stories carrying this topic (a slug, like ai-misuse).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000), help="How many, newest first.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for other tools.")
@pass_app
def stories_list(app: AppContext, topic: str | None, limit: int, as_json: bool) -> None:
    """The newest stories, with their topics and why."""
    order = tuple(t.slug for t in app.topic_names())
    if topic is not None and topic not in order:
        raise BadInput(f"unknown topic '{topic}': the topics are {', '.join(order)}")
    with app.reading() as reader:
        rows = [story_json(story, order) for story in list_story_listings(reader, limit=limit, topic=topic)]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no stories yet: add feeds and run 'digest poll'" if topic is None else f"no stories on {topic}")
        return
    show_table(app, STORY_COLUMNS, story_cells(rows))


# "-topic" must reach the command as an argument, not be read as an unknown option.
@stories.command("tag", context_settings={"ignore_unknown_options": True})
@click.argument("story_id", type=int)
@click.argument("changes", nargs=-1, required=True, type=click.UNPROCESSED)
@pass_app
def stories_tag(app: AppContext, story_id: int, changes: tuple[str, ...]) -> None:
    """Pin (+topic) or remove (-topic) a topic by hand; ~topic returns it to the rules.

    Example: digest stories tag 42 +deepfakes -ai-misuse. Decisions survive 'digest retag'.
    """
    from digest.feeds import topic_store
    from digest.feeds.models import Story
    from digest.feeds.retag import edit_topics, parse_topic_changes

    ruleset = app.ruleset()
    try:
        parsed = parse_topic_changes(changes, ruleset.slugs)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    with session_scope(app.engine()) as session:
        story = session.get(Story, story_id)
        if story is None:
            raise UserError(f"no story has id {story_id}")
        edit_topics(session, ruleset, story, parsed, datetime.now(UTC))
        carried = topic_store.topics_of(session, [story_id]).get(story_id, {})
        manual = topic_store.manual_decisions(session, story_id)
    shown = (
        ", ".join(f"{t} ({manual[t]})" if t in manual else t for t in views.ordered_topics(carried, ruleset.slugs))
        or "none"
    )
    click.echo(f"story {story_id} topics: {shown}")
    removed = [t for t, origin in manual.items() if origin == "removed"]
    if removed:
        click.echo(f"removed by hand: {', '.join(sorted(removed))}")


def story_json(story: StoryListing, order: tuple[str, ...]) -> dict[str, object]:
    sources = [
        {"feed_url": s.feed_url, "feed_title": s.feed_title, "guid": s.guid, "link": s.link} for s in story.sources
    ]
    return views.story_json(story, story.why, order, sources)


STORY_COLUMNS = ("id", "published", "title", "topics", "source")


def story_cells(rows: list[dict[str, object]]) -> list[list[str]]:
    cells = []
    for row in rows:
        sources = row["sources"]
        topics = row["topics"]
        assert isinstance(sources, list) and isinstance(topics, list)
        cells.append(
            [
                str(row["id"]),
                str(row["published"])[:10],
                str(row["title"]),
                ", ".join(topics),
                ", ".join(s["feed_title"] or s["feed_url"] for s in sources),
            ]
        )
    return cells

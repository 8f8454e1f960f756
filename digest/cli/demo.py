"""``digest demo``: the whole pipeline on embedded defaults, in a fresh database of its own.

It serves the sample feeds shipped in config/sample-feeds/ from a local HTTP server, so the demo
exercises the real fetch path without any network, and never touches the configured database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from digest import __version__
from digest.cli.context import AppContext, pass_app
from digest.cli.stories import stories_table, story_json
from digest.db.engine import make_engine, session_scope
from digest.db.migrate import upgrade
from digest.feeds import store, topic_store
from digest.feeds.refresh import poll_feeds
from digest.localserve import serve_directory

SAMPLE_FEEDS = Path(__file__).resolve().parents[2] / "config" / "sample-feeds"


@click.command()
@click.option(
    "--dir", "workdir", default="var/demo", show_default=True, type=click.Path(file_okay=False, path_type=Path),
    help="Where the demo keeps its database (recreated on every run).",
)  # fmt: skip
@pass_app
def demo(app: AppContext, workdir: Path) -> None:
    """Run the pipeline end to end on the bundled sample feeds."""
    workdir.mkdir(parents=True, exist_ok=True)
    database = workdir / "digest.db"
    for leftover in workdir.glob("digest.db*"):
        leftover.unlink()
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    try:
        upgrade(engine)
        samples = sorted(SAMPLE_FEEDS.glob("*.xml"))
        with serve_directory(SAMPLE_FEEDS) as base:
            with session_scope(engine) as session:
                for sample in samples:
                    store.add_feed(session, base + sample.name, None, datetime.now(UTC))
            click.echo(f"1. serving {len(samples)} sample feeds at {base}")
            report = poll_feeds(
                engine, app.settings.feeds, app.settings.user_agent(__version__), app.ruleset(), all_feeds=True
            )
            click.echo(
                f"2. polled them: {report.new_stories} stories stored, "
                f"{report.count('error') + report.count('gone')} feeds failed"
            )
        with session_scope(engine) as session:
            found = store.list_stories(session, limit=20)
            tags = topic_store.topics_of(session, [s.id for s in found])
            rows = [story_json(s, tags.get(s.id, {}), app.ruleset().slugs) for s in found]
        app.console.print(stories_table(rows))
    finally:
        engine.dispose()
    click.echo(f"\nThe demo database is {database}; look around with:")
    click.echo(f"  DIGEST_DATABASE_URL={url} digest feeds list")
    click.echo(f"  DIGEST_DATABASE_URL={url} digest stories list --json")

"""``digest demo``: the whole pipeline on embedded defaults, in a folder of its own.

It serves the sample feeds shipped in config/sample-feeds/ from a local HTTP server (the real fetch
path, no network), adds a few sample subscribers, polls and tags, sends the digests to a file
outbox, and writes an editor's preview. It creates an editor account for the console (its name and
password are printed). It never touches the configured database or outbox.
"""

from __future__ import annotations

import secrets
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from digest import __version__
from digest.cli.context import AppContext, pass_app
from digest.cli.stories import STORY_COLUMNS, story_cells, story_json
from digest.cli.tables import show_table
from digest.db.engine import make_engine, read_scope, session_scope
from digest.db.light import sa_reader
from digest.db.migrate import upgrade
from digest.digests.build import plan_edition
from digest.digests.deliver import deliver_queued
from digest.digests.preview import preview_message
from digest.editors import store as editors
from digest.feeds import store
from digest.feeds.listing_store import list_story_listings
from digest.feeds.refresh import poll_feeds
from digest.localserve import serve_directory
from digest.subscribers.importer import add_subscriber
from digest.subscribers.links import make_signer

SAMPLE_FEEDS = Path(__file__).resolve().parents[2] / "config" / "sample-feeds"
DEMO_EDITOR = "demo"
SAMPLE_READERS = [
    ("dana.deepfakes@example.org", ["deepfakes"], "daily"),
    ("chris.children@example.org", ["child-protection"], "weekly"),
    ("alex.everything@example.org", ["ai-misuse", "child-protection", "deepfakes"], "daily"),
    ("sam.ai@example.org", ["ai-misuse"], "weekly"),
]


@click.command()
@click.option(
    "--dir",
    "workdir",
    default="var/demo",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the demo keeps its database, outbox and preview (recreated on every run).",
)
@pass_app
def demo(app: AppContext, workdir: Path) -> None:
    """Run the pipeline end to end on the bundled sample feeds and sample subscribers."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    url = f"sqlite:///{workdir / 'digest.db'}"
    # The sample feeds are served on loopback: the demo turns the private-address guard off for itself.
    feeds = app.settings.feeds.model_copy(update={"allow_private_networks": True})
    settings = app.settings.model_copy(
        update={"database_url": url, "mail_url": f"file://{workdir / 'outbox'}", "feeds": feeds}
    )
    ruleset = app.ruleset()
    engine = make_engine(url)
    now = datetime.now(UTC)
    try:
        upgrade(engine)
        with session_scope(engine) as session:
            for email, topics, frequency in SAMPLE_READERS:
                # Confirmed a day ago, so today's stories are all new to them.
                add_subscriber(
                    session, settings, email, topics, frequency, True, ruleset.slugs, now - timedelta(days=1)
                )
        click.echo(f"1. added {len(SAMPLE_READERS)} sample subscribers, each with their own topics")
        samples = sorted(SAMPLE_FEEDS.glob("*.xml"))
        with serve_directory(SAMPLE_FEEDS) as base:
            with session_scope(engine) as session:
                for sample in samples:
                    store.add_feed(session, base + sample.name, None, now)
            report = poll_feeds(engine, settings.feeds, settings.user_agent(__version__), ruleset, all_feeds=True)
        click.echo(
            f"2. polled {len(samples)} sample feeds from a local HTTP server: {report.new_stories} stories stored "
            f"and tagged, {report.count('error') + report.count('gone')} feeds failed"
        )
        with read_scope(engine) as connection:
            rows = [story_json(s, ruleset.slugs) for s in list_story_listings(sa_reader(connection), limit=20)]
        show_table(app, STORY_COLUMNS, story_cells(rows))
        signer = make_signer(settings, engine)
        reader = SAMPLE_READERS[2][0]
        previewed = preview_message(engine, settings, ruleset, signer, reader, datetime.now(UTC))
        preview_file = workdir / "preview.html"
        assert previewed is not None
        preview = previewed.message
        part = preview.get_body(("html",))
        assert part is not None
        preview_file.write_text(str(part.get_content()), encoding="utf-8")
        click.echo(f"3. wrote an editor's preview of {reader}'s digest: {preview['Subject']!r}")
        plan = plan_edition(engine, settings, ruleset, datetime.now(UTC))
        sent = deliver_queued(engine, settings, ruleset, signer)
        click.echo(f"4. sent {sent.sent} digests to the file outbox ({plan.empty} readers had nothing new)")
        password = secrets.token_urlsafe(12)
        with session_scope(engine) as session:
            editors.set_editor(session, DEMO_EDITOR, password, datetime.now(UTC))
        click.echo(f"5. created the editor account '{DEMO_EDITOR}' for the console")
    finally:
        engine.dispose()
    click.echo("\nWhere to look:")
    click.echo(f"  the digests sent:   {workdir / 'outbox'}/*.eml (open them in any mail program)")
    click.echo(f"  the editor preview: {preview_file}")
    click.echo(
        "  the web app:        DIGEST_DATABASE_URL=" + url + " ./run digest serve   (then http://127.0.0.1:8000/)"
    )
    click.echo("  the stories:        DIGEST_DATABASE_URL=" + url + " ./run digest stories list")
    click.echo(
        "  the editor console: http://127.0.0.1:8000/editor/ (with the web app above running), "
        f"name {DEMO_EDITOR}, password {password}"
    )
    click.echo("  the editions:       DIGEST_DATABASE_URL=" + url + " ./run digest editions show")
    click.echo("  the archive:        http://127.0.0.1:8000/archive/ (with the web app above running)")

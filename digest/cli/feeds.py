"""``digest feeds add|list|discover|import|export`` and ``digest poll``."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from digest import __version__
from digest.cli.context import AppContext, BadInput, UserError, counting_progress, pass_app, session_scope
from digest.cli.tables import show_table
from digest.feeds.light_store import list_feed_health
from digest.feeds.views import feed_json

if TYPE_CHECKING:
    from digest.feeds.refresh import FeedOutcome

# The ORM store (digest.feeds.store) is imported by the commands that write: "feeds list" reads with
# Core statements only, so it starts without the ORM.


@click.group()
def feeds() -> None:
    """The feeds digest polls."""


@feeds.command("add")
@click.argument("url")
@click.option("--title", help="A title to show instead of the feed's own.")
@click.option(
    "--interval",
    type=click.IntRange(1, 7 * 24 * 60),
    help="Minutes between polls (default: feeds.default_interval_minutes).",
)
@pass_app
def feeds_add(app: AppContext, url: str, title: str | None, interval: int | None) -> None:
    """Add a feed by its URL; it is polled at the next poll."""
    from digest.feeds.guard import check_feed_url  # loads httpx: only in the command that needs it

    url = url.strip()
    problem = check_feed_url(url, allow_private=app.settings.feeds.allow_private_networks)
    if problem:
        raise BadInput(problem)
    from digest.feeds import store

    engine = app.engine()
    try:
        with session_scope(engine) as session:
            store.add_feed(session, url, title, datetime.now(UTC), interval_minutes=interval)
    except store.FeedExists as exc:
        raise BadInput(exc.describe()) from None
    click.echo(f"added {url}")


@feeds.command("discover")
@click.argument("site")
@pass_app
def feeds_discover(app: AppContext, site: str) -> None:
    """List the feeds a site's page announces (add one with 'digest feeds add URL')."""
    from digest.feeds.discover import DiscoveryError, discover_feeds
    from digest.feeds.guard import check_feed_url

    site = site.strip()
    parts = urlsplit(site)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadInput(f"'{site}' is not a site address: give a full http:// or https:// URL")
    problem = check_feed_url(site, allow_private=app.settings.feeds.allow_private_networks)
    if problem:
        raise BadInput(problem)
    try:
        found = discover_feeds(site, app.settings.feeds, app.settings.user_agent(__version__))
    except DiscoveryError as exc:
        raise UserError(str(exc)) from None
    if not found:
        raise UserError(f"{site} announces no RSS or Atom feed")
    for item in found:
        click.echo(f"{item.url}\t{item.kind}\t{item.title or ''}".rstrip())


@feeds.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
def feeds_import(app: AppContext, file: Path) -> None:
    """Add every feed of an OPML file (Miniflux, rss2email, ...); feeds already here are left alone."""
    from digest.feeds import opml

    try:
        listed = opml.read_opml(file.read_bytes())
    except opml.OpmlError as exc:
        raise BadInput(f"{file}: {exc}") from None
    with session_scope(app.engine()) as session:
        report = opml.import_feeds(session, listed, datetime.now(UTC))
    for url in report.added:
        click.echo(f"added {url}")
    for line in report.existing:
        click.echo(f"skipped: {line}")
    for line in report.bad:
        click.echo(f"error: {line}", err=True)
    click.echo(f"imported {len(report.added)} feeds, {len(report.existing)} already added, {len(report.bad)} unusable")


@feeds.command("export")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file (default: stdout).")
@pass_app
def feeds_export(app: AppContext, out: Path | None) -> None:
    """Every feed as OPML 2.0, for another reader or another installation."""
    from digest.feeds import opml, store

    with session_scope(app.engine()) as session:
        document = opml.write_opml([feed for feed, _n in store.list_feeds(session)], datetime.now(UTC))
    if out is None:
        click.echo(document.decode("utf-8"), nl=False)
        return
    try:
        out.write_bytes(document)
    except OSError as exc:
        raise BadInput(f"cannot write {out}: {exc.strerror or exc}") from None
    click.echo(f"wrote {document.count(b'xmlUrl=')} feeds to {out}", err=True)


@feeds.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for other tools.")
@pass_app
def feeds_list(app: AppContext, as_json: bool) -> None:
    """Every feed with its health: status, errors, next poll."""
    with app.reading() as reader:
        rows = list_feed_health(reader)
    if as_json:
        click.echo(json.dumps([feed_json(feed, feed.stories) for feed in rows], indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no feeds yet: add one with 'digest feeds add URL'")
        return
    cells = [
        [
            feed.url,
            feed.title or "",
            feed.status,
            str(feed.error_count),
            feed.last_error or "",
            str(feed.stories),
            _when(feed.next_poll_at) if feed.status not in ("disabled", "paused") else "-",
        ]
        for feed in rows
    ]
    show_table(app, ("url", "title", "status", "errors", "last error", "stories", "next poll"), cells)


@click.command()
@click.option("--all", "all_feeds", is_flag=True, help="Poll every active feed now, due or not.")
@pass_app
def poll(app: AppContext, all_feeds: bool) -> None:
    """Poll every due feed once and store new stories."""
    from digest.feeds.refresh import poll_feeds, start_parsers
    from digest.monitoring.counting import record_polls

    start_parsers(app.settings.feeds)  # the parsers' server starts while the database and rules are read

    if not app.verbose:
        # Each failure is printed below for people; the same line in the log would say it twice.
        for name in ("digest.feeds.refresh", "digest.feeds.outcomes"):
            feed_log = logging.getLogger(name)
            click.get_current_context().call_on_close(lambda log=feed_log, level=feed_log.level: log.setLevel(level))
            feed_log.setLevel(logging.ERROR)
    engine = app.engine()
    settings = app.settings
    app.ruleset()  # a broken rules file stops the poll before anything is fetched
    with counting_progress(app.console, "polling", show_item=True) as progress:
        task = progress.add_task("", total=None)

        def started(total: int) -> None:
            progress.update(task, total=total)

        def finished(outcome: FeedOutcome) -> None:
            progress.update(task, advance=1, description=outcome.url)

        report = poll_feeds(
            engine,
            settings.feeds,
            settings.user_agent(__version__),
            app.ruleset(),
            all_feeds=all_feeds,
            on_start=started,
            on_feed=finished,
        )
    record_polls(engine, (o.status for o in report.outcomes))
    for outcome in report.outcomes:
        if outcome.status in ("error", "gone"):
            app.console.print(f"[red]failed[/red] {outcome.url}: {outcome.message}", highlight=False, soft_wrap=True)
    polled = len(report.outcomes)
    click.echo(
        f"polled {polled} feed{'s' if polled != 1 else ''}: {report.count('ok')} ok, "
        f"{report.count('not-modified')} not modified, {report.count('error') + report.count('gone')} failed; "
        f"{report.new_stories} new stories, {report.updated_stories} updated"
    )


def _when(when: datetime) -> str:
    return when.astimezone().strftime("%Y-%m-%d %H:%M")

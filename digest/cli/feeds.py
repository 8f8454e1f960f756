"""``digest feeds add|list`` and ``digest poll``."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from digest import __version__
from digest.cli.context import AppContext, BadInput, UserError, counting_progress, pass_app
from digest.db.base import iso
from digest.db.engine import session_scope
from digest.feeds import store
from digest.feeds.models import Feed

if TYPE_CHECKING:
    from digest.feeds.refresh import FeedOutcome


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
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadInput(f"'{url}' is not a feed address: give a full http:// or https:// URL")
    engine = app.engine()
    try:
        with session_scope(engine) as session:
            store.add_feed(session, url, title, datetime.now(UTC), interval_minutes=interval)
    except store.FeedExists:
        raise UserError(f"the feed {url} is already added") from None
    click.echo(f"added {url}")


@feeds.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for other tools.")
@pass_app
def feeds_list(app: AppContext, as_json: bool) -> None:
    """Every feed with its health: status, errors, next poll."""
    with session_scope(app.engine()) as session:
        rows = store.list_feeds(session)
    if as_json:
        click.echo(json.dumps([_feed_json(feed, n) for feed, n in rows], indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no feeds yet: add one with 'digest feeds add URL'")
        return
    from rich.table import Table

    table = Table("url", "title", "status", "errors", "last error", "stories", "next poll")
    for feed, n in rows:
        table.add_row(
            feed.url,
            feed.title or "",
            feed.status,
            str(feed.error_count),
            feed.last_error or "",
            str(n),
            _when(feed.next_poll_at) if feed.status not in ("disabled", "paused") else "-",
        )
    app.console.print(table)


@click.command()
@click.option("--all", "all_feeds", is_flag=True, help="Poll every active feed now, due or not.")
@pass_app
def poll(app: AppContext, all_feeds: bool) -> None:
    """Poll every due feed once and store new stories."""
    from digest.feeds.refresh import poll_feeds

    if not app.verbose:
        # Each failure is printed below for people; the same line in the log would say it twice.
        refresh_log = logging.getLogger("digest.feeds.refresh")
        click.get_current_context().call_on_close(lambda level=refresh_log.level: refresh_log.setLevel(level))
        refresh_log.setLevel(logging.ERROR)
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
    for outcome in report.outcomes:
        if outcome.status in ("error", "gone"):
            app.console.print(f"[red]failed[/red] {outcome.url}: {outcome.message}", highlight=False, soft_wrap=True)
    polled = len(report.outcomes)
    click.echo(
        f"polled {polled} feed{'s' if polled != 1 else ''}: {report.count('ok')} ok, "
        f"{report.count('not-modified')} not modified, {report.count('error') + report.count('gone')} failed; "
        f"{report.new_stories} new stories, {report.updated_stories} updated"
    )


def _feed_json(feed: Feed, stories: int) -> dict[str, object]:
    return {
        "url": feed.url,
        "title": feed.title,
        "status": feed.status,
        "error_count": feed.error_count,
        "last_error": feed.last_error,
        "last_polled": iso(feed.last_polled_at),
        "next_poll": iso(feed.next_poll_at) if feed.status not in ("disabled", "paused") else None,
        "stories": stories,
    }


def _when(when: datetime) -> str:
    return when.astimezone().strftime("%Y-%m-%d %H:%M")

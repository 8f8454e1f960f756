"""The ``digest`` command: global options, logging, and the command groups of each domain."""

from __future__ import annotations

import logging

import click

from digest import __version__
from digest.cli import db, demo, digests, editions, editors, events, feeds, run, serve, stories, subscribers, tagging
from digest.cli.context import AppContext, DigestGroup
from digest.config import load_settings


@click.group(cls=DigestGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="digest")
@click.option("-v", "--verbose", count=True, help="Log what happens (-v: each step, -vv: debug).")
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """Topic digests of cybersecurity-law news."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = AppContext(settings=load_settings())
    ctx.obj = app
    ctx.call_on_close(app.close)


cli.add_command(db.db)
cli.add_command(feeds.feeds)
cli.add_command(feeds.poll)
cli.add_command(stories.stories)
cli.add_command(tagging.tag)
cli.add_command(tagging.retag)
cli.add_command(tagging.topics)
cli.add_command(events.events)
cli.add_command(subscribers.subscribers)
cli.add_command(serve.serve)
cli.add_command(digests.send)
cli.add_command(digests.preview)
cli.add_command(run.run)
cli.add_command(editors.editors)
cli.add_command(editions.editions)
cli.add_command(demo.demo)


def main() -> None:
    cli(prog_name="digest")

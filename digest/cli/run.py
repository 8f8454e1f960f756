"""``digest run``: the scheduler in the foreground (polling, sending, retries)."""

from __future__ import annotations

import logging

import click

from digest.cli.context import AppContext, pass_app


@click.command()
@click.option(
    "--tick", default=60, show_default=True, type=click.IntRange(1, 3600), help="Seconds between polls of due feeds."
)
@pass_app
def run(app: AppContext, tick: int) -> None:
    """Run the scheduler until SIGTERM or Ctrl-C; one log line per job run."""
    from digest.feeds.refresh import start_parsers
    from digest.logs import make_handler
    from digest.scheduler import run_scheduler

    start_parsers(app.settings.feeds)  # kept from one poll to the next

    # Operators read this process's log: one line per job, whatever -v says.
    logging.getLogger("digest.run").setLevel(logging.INFO)
    logging.getLogger("digest.run").addHandler(make_handler(app.settings.logging))
    logging.getLogger("digest.run").propagate = False
    run_scheduler(app.settings, app.engine(), app.ruleset(), tick)

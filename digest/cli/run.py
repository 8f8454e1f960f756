"""``digest run``: the scheduler in the foreground (polling, sending, retries)."""

from __future__ import annotations

import logging

import click

from digest.cli.context import AppContext, pass_app
from digest.scheduler import run_scheduler


@click.command()
@click.option(
    "--tick", default=60, show_default=True, type=click.IntRange(1, 3600), help="Seconds between polls of due feeds."
)
@pass_app
def run(app: AppContext, tick: int) -> None:
    """Run the scheduler until SIGTERM or Ctrl-C; one log line per job run."""
    # Operators read this process's log: one line per job, whatever -v says.
    logging.getLogger("digest.run").setLevel(logging.INFO)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger("digest.run").addHandler(handler)
    logging.getLogger("digest.run").propagate = False
    run_scheduler(app.settings, app.engine(), app.ruleset(), tick)

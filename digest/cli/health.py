"""``digest health``: the container health check of processes without a web server (the scheduler)."""

from __future__ import annotations

import sys

import click

from digest.cli.context import AppContext, pass_app


@click.command()
@pass_app
def health(app: AppContext) -> None:
    """Check the database, its schema and the mail setting: one line, exit 0 when ready, 1 when not."""
    from digest.db.engine import make_engine
    from digest.db.models import import_all_models
    from digest.monitoring.readiness import readiness_problem

    import_all_models()
    engine = make_engine(app.settings.database_url)
    try:
        problem = readiness_problem(app.settings, engine)
    finally:
        engine.dispose()
    if problem is None:
        click.echo("ready")
        return
    click.echo(f"not ready: {problem}")
    sys.exit(1)

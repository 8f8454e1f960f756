"""``digest db``: create or upgrade the schema."""

from __future__ import annotations

import click

from digest.cli.context import AppContext, pass_app
from digest.db.engine import describe_url
from digest.db.migrate import upgrade


@click.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@pass_app
def db_upgrade(app: AppContext) -> None:
    """Create the database, or bring it to the newest schema."""
    before, after = upgrade(app.engine(require_schema=False))
    where = describe_url(app.settings.database_url)
    if before == after:
        click.echo(f"{where}: schema already at revision {after}")
    else:
        click.echo(f"{where}: schema upgraded from {before or 'nothing'} to revision {after}")

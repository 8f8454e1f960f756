"""``digest serve``: the web app under uvicorn."""

from __future__ import annotations

import click
import uvicorn

from digest.cli.context import AppContext, pass_app
from digest.web.app import create_app


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@pass_app
def serve(app: AppContext, host: str, port: int) -> None:
    """Serve the sign-up, preferences and unsubscribe pages."""
    web = create_app(app.settings, app.engine(), app.ruleset())
    click.echo(f"serving on http://{host}:{port}/ (links in mail point to {app.settings.base_url})")
    uvicorn.run(web, host=host, port=port, log_level="info", proxy_headers=True)

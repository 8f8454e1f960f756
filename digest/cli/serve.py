"""``digest serve``: the web app under uvicorn."""

from __future__ import annotations

import click

from digest.cli.context import AppContext, pass_app


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="0: any free port.")
@pass_app
def serve(app: AppContext, host: str, port: int) -> None:
    """Serve the sign-up, preferences and unsubscribe pages."""
    import uvicorn

    from digest.web.app import create_app

    web = create_app(app.settings, app.engine(), app.ruleset())
    where = f"http://{host}:{port}/" if port else f"{host}, on a free port named below"
    click.echo(f"serving on {where} (links in mail point to {app.settings.base_url})")
    # log_config=None: uvicorn's loggers (the access log too) go through digest's own handler, which
    # cuts personal tokens and addresses out of every line (see digest.logs).
    uvicorn.run(web, host=host, port=port, log_config=None, log_level="info", proxy_headers=True)

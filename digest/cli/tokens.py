"""``digest tokens add|list|revoke``: bearer tokens for the JSON API."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from digest.api_tokens import store
from digest.api_tokens.access import SCOPES, TokenProblem, issue_token, revoke_token
from digest.cli.context import AppContext, BadInput, pass_app
from digest.db.base import iso
from digest.db.engine import session_scope


@click.group()
def tokens() -> None:
    """Bearer tokens for the JSON API (scopes: read < subscribers < admin)."""


@tokens.command("add")
@click.argument("name")
@click.option("--scope", type=click.Choice(SCOPES), default="read", show_default=True, help="What the token may do.")
@pass_app
def add(app: AppContext, name: str, scope: str) -> None:
    """Make a token; it is printed once, as the last word of the output, and stored only as a hash."""
    try:
        with session_scope(app.engine()) as session:
            token = issue_token(session, name, scope, datetime.now(UTC))
    except TokenProblem as exc:
        raise BadInput(str(exc)) from None
    click.echo(f"token '{name}' (scope {scope}) made; it is shown only now: {token}")


@tokens.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for other tools.")
@pass_app
def list_(app: AppContext, as_json: bool) -> None:
    """Every token's name, scope, when it was made and last used, and whether it is revoked."""
    with session_scope(app.engine(), read_only=True) as session:
        rows = [
            {
                "name": t.name,
                "scope": t.scope,
                "created": iso(t.created_at),
                "last_used": iso(t.last_used_at),
                "revoked": iso(t.revoked_at),
            }
            for t in store.list_tokens(session)
        ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no tokens yet: make one with 'digest tokens add NAME --scope read|subscribers|admin'")
        return
    for row in rows:
        state = f"revoked {row['revoked']}" if row["revoked"] else f"last used {row['last_used'] or 'never'}"
        click.echo(f"{row['name']}\t{row['scope']}\tmade {row['created']}\t{state}")


@tokens.command("revoke")
@click.argument("name")
@pass_app
def revoke(app: AppContext, name: str) -> None:
    """Stop a token from working, at once."""
    try:
        with session_scope(app.engine()) as session:
            revoke_token(session, name, datetime.now(UTC))
    except TokenProblem as exc:
        raise BadInput(str(exc)) from None
    click.echo(f"token '{name}' is revoked: calls with it get 401")

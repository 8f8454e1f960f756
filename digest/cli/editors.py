"""``digest editors add|list``: accounts for the editor console."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from digest.cli.context import AppContext, BadInput, pass_app
from digest.db.engine import session_scope
from digest.editors import store
from digest.editors.store import EditorError


@click.group()
def editors() -> None:
    """Who may sign in to the editor console."""


@editors.command("add")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
@pass_app
def add(app: AppContext, username: str, password_stdin: bool) -> None:
    """Create an editor, or set a new password for one (which signs them out everywhere)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with session_scope(app.engine()) as session:
            _editor, created = store.set_editor(session, username.strip().lower(), password, datetime.now(UTC))
    except EditorError as exc:
        raise BadInput(str(exc)) from None
    click.echo(f"{'added editor' if created else 'new password for'} {username.strip().lower()}")


@editors.command("list")
@pass_app
def list_(app: AppContext) -> None:
    """Every editor and when they last signed in."""
    with session_scope(app.engine()) as session:
        for editor in store.list_editors(session):
            last = editor.last_login_at.strftime("%Y-%m-%d %H:%M") if editor.last_login_at else "never"
            click.echo(f"{editor.username}\tlast sign-in {last}")

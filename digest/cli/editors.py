"""``digest editors add|list|remove|password``: accounts for the editor console."""

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
    password = _read_password(password_stdin)
    try:
        with session_scope(app.engine()) as session:
            _editor, created = store.set_editor(session, username.strip().lower(), password, datetime.now(UTC))
    except EditorError as exc:
        raise BadInput(str(exc)) from None
    click.echo(f"{'added editor' if created else 'new password for'} {username.strip().lower()}")


@editors.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
@pass_app
def password(app: AppContext, username: str, password_stdin: bool) -> None:
    """Set a new password for an editor; every session of theirs ends."""
    name = username.strip().lower()
    with session_scope(app.engine()) as session:
        if store.by_name(session, name) is None:
            raise BadInput(f"no editor is called {name}; 'digest editors list' shows who there is")
    new = _read_password(password_stdin)
    try:
        with session_scope(app.engine()) as session:
            store.set_editor(session, name, new, datetime.now(UTC))
    except EditorError as exc:
        raise BadInput(str(exc)) from None
    click.echo(f"new password for {name}; their other sessions are signed out")


@editors.command("remove")
@click.argument("username")
@pass_app
def remove(app: AppContext, username: str) -> None:
    """Delete an editor's account; they are signed out at once."""
    name = username.strip().lower()
    with session_scope(app.engine()) as session:
        if not store.remove_editor(session, name):
            raise BadInput(f"no editor is called {name}; 'digest editors list' shows who there is")
    click.echo(f"removed editor {name}")


@editors.command("list")
@pass_app
def list_(app: AppContext) -> None:
    """Every editor and when they last signed in."""
    with session_scope(app.engine()) as session:
        accounts = store.list_editors(session)
    if not accounts:
        click.echo("no editors yet: add one with 'digest editors add NAME'")
    for editor in accounts:
        last = editor.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if editor.last_login_at else "never"
        click.echo(f"{editor.username}\tlast sign-in {last}")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))

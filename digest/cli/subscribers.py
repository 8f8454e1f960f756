"""``digest subscribers add|import|list|export|erase`` for editors and the operator."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy.orm import Session

from digest.cli.context import AppContext, BadInput, UserError, pass_app
from digest.db.engine import session_scope
from digest.subscribers import store
from digest.subscribers.importer import AddRefused, add_subscriber, import_csv
from digest.subscribers.models import Subscriber
from digest.subscribers.privacy import InvalidEmail, erase_subscriber, export_subscriber, normalise_email
from digest.subscribers.signup import InvalidChoice


@click.group()
def subscribers() -> None:
    """The people who get digests."""


def _topics(value: str) -> list[str]:
    return [t.strip() for t in value.replace(";", ",").split(",") if t.strip()]


@subscribers.command("add")
@click.argument("email")
@click.option("--topics", required=True, help="Comma-separated topic slugs, like ai-misuse,deepfakes.")
@click.option("--frequency", type=click.Choice(["daily", "weekly"]), help="Default: signup.default_frequency.")
@click.option("--confirmed", is_flag=True, help="You have the person's consent: record it and start sending.")
@pass_app
def add(app: AppContext, email: str, topics: str, frequency: str | None, confirmed: bool) -> None:
    """Add one subscriber (pending unless --confirmed)."""
    ruleset = app.ruleset()
    try:
        with session_scope(app.engine()) as session:
            add_subscriber(
                session,
                app.settings,
                email,
                _topics(topics),
                frequency or app.settings.signup.default_frequency,
                confirmed,
                ruleset.slugs,
                datetime.now(UTC),
            )
    except (InvalidEmail, InvalidChoice) as exc:
        raise BadInput(str(exc)) from None
    except AddRefused as exc:
        raise UserError(str(exc)) from None
    click.echo(f"added {normalise_email(email)} ({'confirmed' if confirmed else 'pending'})")


@subscribers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--topics", "default_topics", default="", help="Topics for rows that name none (listmonk exports).")
@click.option("--frequency", type=click.Choice(["daily", "weekly"]), help="Frequency for rows that name none.")
@pass_app
def import_(app: AppContext, file: Path, default_topics: str, frequency: str | None) -> None:
    """Import a CSV: email,topics,frequency,confirmed, or a listmonk subscriber export."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

    ruleset = app.ruleset()
    engine = app.engine()
    with Progress(
        TextColumn("importing"), BarColumn(), DownloadColumn(), TimeElapsedColumn(), console=app.console, transient=True
    ) as progress:
        task = progress.add_task("", total=file.stat().st_size)
        report = import_csv(
            engine,
            app.settings,
            file,
            ruleset.slugs,
            default_topics=_topics(default_topics),
            default_frequency=frequency,
            on_progress=lambda done, total: progress.update(task, completed=done),
        )
    for line, reason in report.skipped:
        click.echo(f"line {line}: skipped: {reason}")
    for line, problem in report.errors:
        click.echo(f"line {line}: error: {problem}", err=True)
    click.echo(f"imported {report.added}, skipped {len(report.skipped)}, {len(report.errors)} bad rows")
    if report.errors and not report.added:
        raise SystemExit(1)


@subscribers.command("list")
@click.option("--show-addresses", is_flag=True, help="Also list every address (off by default: privacy).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object, for other tools.")
@pass_app
def list_(app: AppContext, show_addresses: bool, as_json: bool) -> None:
    """How many subscribers, by status and by topic; addresses only when asked."""
    people: list[dict[str, object]] = []
    with session_scope(app.engine()) as session:
        by_status = store.count_by_status(session)
        by_topic = store.count_by_topic(session)
        if show_addresses:
            people = [
                {"email": s.email, "status": s.status, "frequency": s.frequency, "topics": s.topic_slugs}
                for batch in store.iter_subscribers(session)
                for s in batch
            ]
    if as_json:
        result: dict[str, object] = {"by_status": by_status, "confirmed_by_topic": by_topic}
        if show_addresses:
            result["subscribers"] = people
        click.echo(json.dumps(result, indent=2))
        return
    click.echo("by status: " + (", ".join(f"{k} {v}" for k, v in sorted(by_status.items())) or "none"))
    click.echo("confirmed, by topic: " + (", ".join(f"{k} {v}" for k, v in sorted(by_topic.items())) or "none"))
    if show_addresses:
        from rich.table import Table

        table = Table("email", "status", "frequency", "topics")
        for person in people:
            topics = person["topics"]
            assert isinstance(topics, list)
            table.add_row(str(person["email"]), str(person["status"]), str(person["frequency"]), ", ".join(topics))
        app.console.print(table)


@subscribers.command("export")
@click.argument("email")
@pass_app
def export(app: AppContext, email: str) -> None:
    """Everything stored about one person, as JSON."""
    with session_scope(app.engine()) as session:
        subscriber = _find(session, email)
        click.echo(json.dumps(export_subscriber(session, subscriber), indent=2, ensure_ascii=False))


@subscribers.command("erase")
@click.argument("email")
@pass_app
def erase(app: AppContext, email: str) -> None:
    """Delete the person and everything about them; keep only a salted hash so imports skip them."""
    with session_scope(app.engine()) as session:
        subscriber = _find(session, email)
        address = subscriber.email
        erase_subscriber(session, subscriber, datetime.now(UTC))
    click.echo(f"erased {address}; only a salted hash remains, so imports will skip the address")


def _find(session: Session, email: str) -> Subscriber:
    try:
        address = normalise_email(email)
    except InvalidEmail as exc:
        raise BadInput(str(exc)) from None
    subscriber = store.by_email(session, address)
    if subscriber is None:
        raise UserError(f"no subscriber has the address {address}")
    return subscriber

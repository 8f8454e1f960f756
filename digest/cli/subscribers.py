"""``digest subscribers add|import|list|export|erase`` for editors and the operator."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from digest.cli.context import AppContext, BadInput, UserError, pass_app, session_scope
from digest.subscribers.addresses import InvalidEmail, normalise_email

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from digest.subscribers.models import Subscriber

# The ORM, the importer and the sign-up rules are imported by the commands that use them:
# "subscribers export" reads with Core statements only, so it starts without them.


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
@click.option("--no-confirmation-mail", "no_mail", is_flag=True, help="Add as pending without mailing them.")
@pass_app
def add(app: AppContext, email: str, topics: str, frequency: str | None, confirmed: bool, no_mail: bool) -> None:
    """Add one subscriber: pending (and sent the confirmation link) unless --confirmed."""
    from digest.cli.confirm_mail import confirmation_mailer, report_mails  # mail and templates: only here
    from digest.subscribers.importer import AddRefused, add_subscriber
    from digest.subscribers.signup import InvalidChoice

    ruleset = app.ruleset()
    # The mailer first: a mail URL that cannot work is refused before anything is stored.
    with confirmation_mailer(app, enabled=not (no_mail or confirmed)) as mailer:
        try:
            with session_scope(app.engine()) as session:
                address = add_subscriber(
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
        click.echo(f"added {address} ({'confirmed' if confirmed else 'pending'})")
        if mailer is not None:
            mailer.send_to([address], datetime.now(UTC))
    if not confirmed:
        again = "Import a CSV with the address (confirmed=false)"  # add refuses an address already on the list
        report_mails(app.settings, mailer.tally if mailer else None, pending=1, again=again)


@subscribers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--topics", "default_topics", default="", help="Topics for rows that name none (listmonk exports).")
@click.option("--frequency", type=click.Choice(["daily", "weekly"]), help="Frequency for rows that name none.")
@click.option("--no-confirmation-mail", "no_mail", is_flag=True, help="Import pending rows without mailing them.")
@pass_app
def import_(app: AppContext, file: Path, default_topics: str, frequency: str | None, no_mail: bool) -> None:
    """Import a CSV: email,topics,frequency,confirmed, or a listmonk subscriber export.

    Pending rows are sent the sign-up form's confirmation mail. Rows already on the list are left as
    they are, so the same file can be imported again (after an interruption, say) without harm.
    """
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from digest.cli.confirm_mail import confirmation_mailer, report_mails
    from digest.subscribers.csvfile import detect_encoding
    from digest.subscribers.import_report import describe_import
    from digest.subscribers.importer import import_csv

    ruleset = app.ruleset()
    engine = app.engine()
    encoding = detect_encoding(file)
    click.echo(f"reading {file.name} as {encoding.label}")
    with (
        confirmation_mailer(app, enabled=not no_mail) as mailer,
        Progress(
            TextColumn("importing"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=app.console,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("", total=file.stat().st_size)
        report = import_csv(
            engine,
            app.settings,
            file,
            ruleset.slugs,
            default_topics=_topics(default_topics),
            default_frequency=frequency,
            on_progress=lambda done, total: progress.update(task, completed=done),
            on_pending=(lambda emails: mailer.send_to(emails, datetime.now(UTC))) if mailer else None,
            encoding=encoding,
        )
    told = describe_import(report)
    for line in told.skipped:
        click.echo(line)
    for line in told.errors:
        click.echo(line, err=True)
    click.echo(told.summary)
    if report.pending or (mailer and mailer.tally.sent):
        again = "Run the same import again"
        report_mails(app.settings, mailer.tally if mailer else None, pending=report.pending, again=again)
    if report.error_count and not report.added and not report.present:
        raise SystemExit(1)


@subscribers.command("list")
@click.option("--show-addresses", is_flag=True, help="Also list every address (off by default: privacy).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object, for other tools.")
@pass_app
def list_(app: AppContext, show_addresses: bool, as_json: bool) -> None:
    """How many subscribers, by status and by topic; addresses only when asked."""
    from digest.subscribers import store

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
    from digest.subscribers.export_store import export_person, subscriber_id

    address = _address(email)
    with app.reading() as reader:
        ident = subscriber_id(reader, address)
        if ident is None:
            raise UserError(f"no subscriber has the address {address}")
        exported = export_person(reader, ident)
    click.echo(json.dumps(exported, indent=2, ensure_ascii=False))


@subscribers.command("erase")
@click.argument("email")
@pass_app
def erase(app: AppContext, email: str) -> None:
    """Delete the person and everything about them; keep only a salted hash so imports skip them."""
    from digest.subscribers.privacy import erase_subscriber

    with session_scope(app.engine()) as session:
        subscriber = _find(session, email)
        address = subscriber.email
        erase_subscriber(session, subscriber, datetime.now(UTC))
    click.echo(f"erased {address}; only a salted hash remains, so imports will skip the address")


def _address(email: str) -> str:
    try:
        return normalise_email(email)
    except InvalidEmail as exc:
        raise BadInput(str(exc)) from None


def _find(session: Session, email: str) -> Subscriber:
    from digest.subscribers import store

    address = _address(email)
    subscriber = store.by_email(session, address)
    if subscriber is None:
        raise UserError(f"no subscriber has the address {address}")
    return subscriber

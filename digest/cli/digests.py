"""``digest send`` and ``digest preview``: deliver the current edition, or show one reader's copy."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from digest.cli.context import AppContext, BadInput, UserError, counting_progress, pass_app
from digest.digests.build import plan_edition, preview_message
from digest.digests.deliver import deliver_queued
from digest.subscribers.links import make_signer
from digest.subscribers.privacy import InvalidEmail, normalise_email


@click.command()
@click.option("--dry-run", is_flag=True, help="Count what would be sent; queue and send nothing.")
@click.option("--now", "as_of", metavar="TIME", help="Act as of this ISO 8601 time (no offset: digest.timezone).")
@pass_app
def send(app: AppContext, dry_run: bool, as_of: str | None) -> None:
    """Deliver the current edition to every confirmed subscriber who has not received it."""
    engine, ruleset = app.engine(), app.ruleset()
    now = _parse_now(as_of, app.settings.digest.timezone) if as_of else datetime.now(UTC)
    # The clock runs on from --now: retries and abandoned claims fall due as they would at that time.
    offset = now - datetime.now(UTC)
    plan = plan_edition(engine, app.settings, ruleset, now, dry_run=dry_run)
    editions = ", ".join(f"{f} {e.partition(':')[2]}" for f, e in plan.editions.items())
    if dry_run:
        click.echo(
            f"editions {editions}: {plan.queued} digests would be sent, {plan.empty} subscribers have "
            f"nothing new, {plan.already} already have this edition"
        )
        return
    signer = make_signer(app.settings, engine)
    with counting_progress(app.console, "sending") as progress:
        task = progress.add_task("", total=None)
        report = deliver_queued(
            engine,
            app.settings,
            ruleset,
            signer,
            on_start=lambda n: progress.update(task, total=n),
            on_message=lambda _outcome: progress.advance(task),
            clock=lambda: datetime.now(UTC) + offset,
        )
    click.echo(
        f"editions {editions}: sent {report.sent}, skipped-empty {plan.empty}, failed {report.failed}, "
        f"retrying later {report.retrying}, not sent (unsubscribed meanwhile) {report.cancelled}"
    )
    if report.failed and not report.sent:
        raise SystemExit(1)


def _parse_now(value: str, timezone: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise BadInput(
            f"--now {value!r} is not an ISO 8601 time (like 2026-12-01T07:00 or 2026-12-01T07:00Z)"
        ) from None
    return (when if when.tzinfo else when.replace(tzinfo=ZoneInfo(timezone))).astimezone(UTC)


@click.command()
@click.argument("email")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the HTML part to this file.")
@click.option("--text", "as_text", is_flag=True, help="Show the plain-text part instead of the HTML.")
@pass_app
def preview(app: AppContext, email: str, out: Path | None, as_text: bool) -> None:
    """Exactly what this subscriber would get now, without sending or marking anything."""
    try:
        address = normalise_email(email)
    except InvalidEmail as exc:
        raise BadInput(str(exc)) from None
    engine = app.engine()
    message = preview_message(
        engine, app.settings, app.ruleset(), make_signer(app.settings, engine), address, datetime.now(UTC)
    )
    if message is None:
        raise UserError(f"no subscriber has the address {address}")
    body = _part(message, "plain" if as_text else "html")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(body, encoding="utf-8")
        click.echo(f"wrote the {'text' if as_text else 'HTML'} part of {message['Subject']!r} to {out}")
        return
    click.echo(f"Subject: {message['Subject']}\nTo: {message['To']}\n")
    click.echo(body)


def _part(message: EmailMessage, kind: str) -> str:
    part = message.get_body((kind,))
    assert part is not None
    return str(part.get_content())

"""``digest send`` and ``digest preview``: deliver the current edition, or show one reader's copy."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import click

from digest.cli.context import AppContext, BadInput, UserError, counting_progress, pass_app
from digest.db.engine import session_scope
from digest.digests.build import plan_edition
from digest.digests.deliver import deliver_queued
from digest.digests.preview import preview_for_choice, preview_message
from digest.digests.review import settle
from digest.mail.reach import check_transport
from digest.subscribers.links import make_signer
from digest.subscribers.privacy import InvalidEmail, normalise_email


def parse_now(value: str | None) -> datetime:
    """--now: an ISO time ("2026-12-01T07:00:00+00:00"; without an offset, UTC)."""
    if value is None:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise BadInput(f"--now '{value}' is not an ISO time like 2026-12-01T07:00:00+00:00") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@click.command()
@click.option("--dry-run", is_flag=True, help="Count what would be sent; queue and send nothing.")
@click.option("--now", "now_text", metavar="TIME", help="Plan and send as of this ISO time (default: now).")
@pass_app
def send(app: AppContext, dry_run: bool, now_text: str | None) -> None:
    """Deliver the current edition to every confirmed subscriber who has not received it."""
    now = parse_now(now_text)
    engine, ruleset = app.engine(), app.ruleset()
    # The clock runs on from --now: retries and abandoned claims fall due as they would at that time.
    offset = now - datetime.now(UTC)
    if not dry_run:
        # An unreachable server is one message now, not every digest queued for a retry.
        check_transport(app.settings.mail_url)
    plan = plan_edition(engine, app.settings, ruleset, now, dry_run=dry_run)
    editions = ", ".join(f"{f} {e.partition(':')[2]}" for f, e in plan.editions.items())
    waiting = ""
    if plan.waiting:
        names = ", ".join(key.partition(":")[2] for key in plan.waiting.values())
        waiting = f"; waiting for approval or held: {names} ({plan.waiting_readers} readers)"
    if dry_run:
        click.echo(
            f"editions {editions}: {plan.queued} digests would be sent, {plan.empty} subscribers have "
            f"nothing new, {plan.already} already have this edition{waiting}"
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
    with session_scope(engine) as session:
        settle(session, now)
    click.echo(
        f"editions {editions}: sent {report.sent}, skipped-empty {plan.empty}, failed {report.failed}, "
        f"retrying later {report.retrying}, not sent (unsubscribed meanwhile) {report.cancelled}{waiting}"
    )
    if report.failed and not report.sent:
        raise SystemExit(1)


@click.command()
@click.argument("email", required=False)
@click.option("--topics", help="Instead of a reader: a topic group, as slugs separated by commas.")
@click.option("--frequency", type=click.Choice(["daily", "weekly"]), default="daily", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the HTML part to this file.")
@click.option("--text", "as_text", is_flag=True, help="Show the plain-text part instead of the HTML.")
@pass_app
def preview(
    app: AppContext, email: str | None, topics: str | None, frequency: str, out: Path | None, as_text: bool
) -> None:
    """A reader's next digest, or a topic group's, as it would go out now; nothing is sent or marked.

    For a reader: which edition it is and whether they already received the current one. For
    --topics: what that group gets in the current edition, with the editors' decisions applied.
    """
    engine, ruleset = app.engine(), app.ruleset()
    if topics is not None:
        chosen = [t.strip() for t in topics.split(",") if t.strip()]
        unknown = [t for t in chosen if t not in ruleset.slugs]
        if unknown or not chosen:
            raise BadInput(f"unknown topic '{(unknown or [''])[0]}' (known: {', '.join(ruleset.slugs)})")
        found = preview_for_choice(engine, app.settings, ruleset, chosen, frequency, datetime.now(UTC))
    elif email is None:
        raise BadInput("give a subscriber's EMAIL, or --topics for a topic group")
    else:
        try:
            address = normalise_email(email)
        except InvalidEmail as exc:
            raise BadInput(str(exc)) from None
        signer = make_signer(app.settings, engine)
        reader = preview_message(engine, app.settings, ruleset, signer, address, datetime.now(UTC))
        if reader is None:
            raise UserError(f"no subscriber has the address {address}")
        found = reader
    message = found.message
    about = found.explanation + (f" Note: {found.skipped}." if found.skipped else "")
    body = _part(message, "plain" if as_text else "html")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(body, encoding="utf-8")
        click.echo(f"wrote the {'text' if as_text else 'HTML'} part of {message['Subject']!r} to {out}")
        click.echo(about)
        return
    click.echo(about + "\n")
    click.echo(f"Subject: {message['Subject']}\nTo: {message['To']}\n")
    click.echo(body)


def _part(message: EmailMessage, kind: str) -> str:
    part = message.get_body((kind,))
    assert part is not None
    return str(part.get_content())

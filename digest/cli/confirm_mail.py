"""Confirmation mails from the command line: the mailer of `subscribers add` and `import`, and what
the editor is told about them (how many went out, and what happens next).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from digest.cli.context import AppContext, BadInput
from digest.config import Settings
from digest.mail.transports import Sending
from digest.subscribers.confirmations import ConfirmationMailer, MailTally
from digest.subscribers.links import make_signer


@contextmanager
def confirmation_mailer(app: AppContext, *, enabled: bool) -> Iterator[ConfirmationMailer | None]:
    """A mailer over one transport (one SMTP connection, opened on the first mail), or None."""
    if not enabled:
        yield None
        return
    engine = app.engine()
    names = {topic.slug: topic.name for topic in app.ruleset().topics}
    try:
        sending = Sending(app.settings.mail_url)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    with sending as transport:
        yield ConfirmationMailer(engine, app.settings, make_signer(app.settings, engine), names, transport)


def report_mails(settings: Settings, tally: MailTally | None, *, pending: int, again: str) -> None:
    """How many confirmation mails went out, and what happens to pending people next."""
    days = settings.privacy.confirm_link_hours / 24
    valid = f"{days:g} days" if days >= 1 else f"{settings.privacy.confirm_link_hours} hours"
    if tally is None:
        click.echo(
            f"confirmation mails: none sent (--no-confirmation-mail); {pending} pending get no digest until "
            f"they confirm. {again} without --no-confirmation-mail to send their mails."
        )
        return
    parts = [f"{tally.sent} sent"]
    if tally.held:
        parts.append(f"{tally.held} held back by the sign-up limits (mailed recently)")
    if tally.failed:
        parts.append(f"{tally.failed} failed")
    click.echo(
        f"confirmation mails: {', '.join(parts)}. Pending people stay pending and get no digest until "
        f"they click the link in their mail (valid for {valid})."
    )
    if tally.held or tally.failed or tally.stopped:
        click.echo(f"{again} later to send the mails that did not go out.")
    if tally.failure:
        click.echo(f"warning: could not send confirmation mails: {tally.failure}", err=True)

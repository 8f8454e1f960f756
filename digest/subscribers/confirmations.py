"""Confirmation mails for people an editor added as pending, by hand or by import.

Nobody added without proof of consent gets a digest: they stay pending until they click the link in
the same confirmation mail the sign-up form sends (notices.signup_message), under the form's limits
(signup.confirmations_allowed). Only people who were never sent one are mailed, so running an import
again mails nobody twice, yet reaches whoever an earlier, interrupted run had not mailed yet. A mail
is marked sent only after the transport took it, in a short transaction of its own.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from digest.config import Settings
from digest.db.engine import session_scope
from digest.mail.transports import DeliveryError, Transport
from digest.subscribers import bulk_store, signup
from digest.subscribers.links import links_for
from digest.subscribers.models import Subscriber
from digest.subscribers.notices import signup_message
from digest.subscribers.tokens import LinkSigner

# Mails sent per transaction: marking them sent waits for the transport, and a SQLite write lock
# must not be held that long.
CHUNK = 100


@dataclass(slots=True)
class MailTally:
    sent: int = 0
    held: int = 0  # the form's limits held them back; a later run sends them
    failed: int = 0  # the transport refused; a later run tries again
    failure: str | None = None  # the last delivery error, for the operator

    @property
    def stopped(self) -> bool:
        return self.failure is not None


class ConfirmationMailer:
    """Sends the confirmation link to pending people who never got one, a chunk at a time."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        signer: LinkSigner,
        topic_names: Mapping[str, str],
        transport: Transport,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.signer = signer
        self.topic_names = dict(topic_names)
        self.transport = transport
        self.tally = MailTally()

    def send_to(self, emails: Collection[str], now: datetime) -> None:
        """Mail those of these addresses that are pending and were never sent a confirmation."""
        addresses = list(emails)
        for start in range(0, len(addresses), CHUNK):
            if self.tally.stopped:
                return  # the mail server is unreachable: the rest wait for the next run
            self._send_chunk(addresses[start : start + CHUNK], now)

    def _send_chunk(self, emails: list[str], now: datetime) -> None:
        with session_scope(self.engine) as session:
            people = bulk_store.never_mailed_pending(session, emails)
            allowed = signup.confirmations_allowed(session, self.settings, people, now)
            self.tally.held += len(people) - len(allowed)
            sent = [person for person in allowed if self._send_one(person)]
            signup.record_confirmations_sent(session, sent, now)
        self.tally.sent += len(sent)

    def _send_one(self, person: Subscriber) -> bool:
        if self.tally.stopped:
            return False
        links = links_for(self.settings, self.signer, person)
        message = signup_message(self.settings, "confirm", person, links, self.topic_names)
        try:
            self.transport.send(message)
        except DeliveryError as exc:
            self.tally.failed += 1
            if not exc.permanent:  # unreachable or busy server: stop instead of failing every mail
                self.tally.failure = str(exc)
            return False
        except (OSError, ValueError) as exc:  # a file outbox that cannot be written
            self.tally.failed += 1
            self.tally.failure = str(exc)
            return False
        return True

"""``digest bounces serve``: an LMTP server (aiosmtpd) an MTA delivers the bounce domain to.

Each report is stored (and acted on) before the server answers ``250`` for it, and LMTP answers once
per recipient, so the MTA keeps and retries exactly the copies that could not be stored (``451``).
Recipients outside the bounce address's domain are refused at RCPT, so the server is no open relay.
"""

from __future__ import annotations

import asyncio
import logging
import socket

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from digest.bounces.process import Processor

log = logging.getLogger(__name__)
MAX_BYTES = 10 * 1024 * 1024  # a bounce quoting a whole digest is well below this


class BounceHandler:
    """The aiosmtpd handler: checks recipients, hands each message to the processor per recipient."""

    def __init__(self, processor: Processor) -> None:
        self.processor = processor
        domain = processor.return_path.domain or processor.settings.mail.from_address.rpartition("@")[2]
        self.domain = domain.lower()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address.rpartition("@")[2].lower() != self.domain:
            return f"550 5.1.1 not a bounce address of {self.domain}"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogateescape")
        loop = asyncio.get_running_loop()
        answers = []
        for recipient in envelope.rcpt_tos:
            try:
                outcome = await loop.run_in_executor(None, self._process, data, recipient)
            except Exception:  # the database is away: the MTA keeps the message and tries again
                log.exception("a report could not be stored; the MTA will retry it")
                answers.append("451 4.3.0 not stored, try again later")
                continue
            answers.append(f"250 2.0.0 stored ({outcome})")
        return "\r\n".join(answers)

    def _process(self, data: bytes, recipient: str) -> str:
        outcome = self.processor.process_message(data, "lmtp", [recipient])
        return f"{outcome.kind}, {outcome.action}"


class LmtpController(Controller):
    def factory(self) -> SMTP:
        return LMTP(self.handler, data_size_limit=MAX_BYTES, enable_SMTPUTF8=True)


def start_lmtp(processor: Processor, host: str, port: int) -> LmtpController:
    """Start the server in a thread of its own; ``port`` 0 picks a free one (see ``.port``)."""
    if port == 0:
        with socket.socket() as probe:  # aiosmtpd needs a concrete port to check that it started
            probe.bind((host, 0))
            port = probe.getsockname()[1]
    controller = LmtpController(BounceHandler(processor), hostname=host, port=port, ready_timeout=10)
    controller.start()
    return controller

"""What every page shares: the app's state, rendering, signed-link lookups, mail sending, clients."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from digest.config import Settings
from digest.feeds.proposals import ProposalCache
from digest.mail.transports import DeliveryError, Sending
from digest.subscribers import store
from digest.subscribers.links import links_for
from digest.subscribers.models import Subscriber
from digest.subscribers.notices import signup_message
from digest.subscribers.signup import Client, SignupOutcome
from digest.subscribers.tokens import BadLink, LinkSigner
from digest.tagging.rules import Ruleset
from digest.templating import environment

log = logging.getLogger(__name__)

NO_STORE = {"Cache-Control": "no-store"}


@dataclass(frozen=True)
class WebState:
    settings: Settings
    engine: Engine
    ruleset: Ruleset
    signer: LinkSigner
    # Shared by every copy of this state (dataclasses.replace keeps it): it checks its own key.
    proposals: ProposalCache = field(default_factory=ProposalCache)


class FormExpired(Exception):
    """A posted form without a valid CSRF token (or from another site); answered with a 403 page."""


class LinkProblem(Exception):
    """A signed link that cannot be used; answered with a 4xx page that reveals nothing else."""

    def __init__(self, status: int, expired: bool = False) -> None:
        super().__init__(status)
        self.status = status
        self.expired = expired


def state(request: Request) -> WebState:
    web_state: WebState = request.app.state.web
    return web_state


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    web = state(request)
    page = (
        environment("web")
        .get_template(template)
        .render(
            site_name=web.settings.mail.from_name,
            contact_line=web.settings.mail.contact_line,
            policy_url=web.settings.policy_url,
            **context,
        )
    )
    return HTMLResponse(page, status_code=status, headers=NO_STORE)


def message_page(
    request: Request, heading: str, *paragraphs: str, status: int = 200, link: dict[str, str] | None = None
) -> HTMLResponse:
    return render(request, "message.html", status, heading=heading, paragraphs=paragraphs, link=link)


def subscriber_from(
    session: Session, web: WebState, purpose: str, token: str, max_age: int | None = None
) -> Subscriber:
    """The subscriber a signed link names; LinkProblem for altered, expired, foreign or dead links."""
    try:
        link_key = web.signer.read(purpose, token, max_age)
    except BadLink as exc:
        raise LinkProblem(410 if exc.expired else 400, expired=exc.expired) from None
    subscriber = store.by_link_key(session, link_key)
    if subscriber is None:  # erased: the same answer as any other dead link
        raise LinkProblem(400)
    return subscriber


def client_of(request: Request) -> Client:
    return Client(
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


def signup_mail(web: WebState, outcome: SignupOutcome) -> EmailMessage | None:
    """The mail a sign-up request asks for (a confirmation link or a reminder), made inside its transaction."""
    if outcome.mail == "none" or outcome.subscriber is None:
        return None
    links = links_for(web.settings, web.signer, outcome.subscriber)
    names = {t.slug: t.name for t in web.ruleset.topics}
    return signup_message(web.settings, outcome.mail, outcome.subscriber, links, names)


def send_quietly(settings: Settings, message: EmailMessage) -> None:
    """Send a sign-up mail; a failure is logged for the operator, never shown to the visitor."""
    try:
        with Sending(settings.mail_url) as transport:
            transport.send(message)
    except (DeliveryError, OSError, ValueError):
        log.exception("could not send %s mail", message["Subject"])

"""The signed links in every mail: confirm, manage preferences, unsubscribe."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from digest.config import Settings
from digest.db.engine import session_scope
from digest.subscribers import store
from digest.subscribers.models import Subscriber
from digest.subscribers.recipient_store import Recipient
from digest.subscribers.tokens import LinkSigner


@dataclass(frozen=True, slots=True)
class Links:
    confirm: str
    preferences: str
    unsubscribe: str
    privacy: str


def make_signer(settings: Settings, engine: Engine) -> LinkSigner:
    """The configured key, or else the one made for this installation and kept in its database."""
    key = settings.secret_key
    if not key:
        with session_scope(engine) as session:
            key = store.installation_secret(session, "signing_key")
    return LinkSigner(key, settings.previous_secret_keys)


def links_for(
    settings: Settings, signer: LinkSigner, subscriber: Subscriber | Recipient, *, confirm: bool = True
) -> Links:
    """Every link for one subscriber; ``confirm=False`` skips the confirmation link (digests)."""
    base = settings.base_url.rstrip("/")
    preferences, unsubscribe = signer.make_each(("preferences", "unsubscribe"), subscriber.link_key)
    return Links(
        confirm=f"{base}/confirm/{signer.make('confirm', subscriber.link_key)}" if confirm else "",
        preferences=f"{base}/preferences/{preferences}",
        unsubscribe=f"{base}/unsubscribe/{unsubscribe}",
        privacy=settings.policy_url,
    )

"""The two mails of signing up: the confirmation link, and "you are already subscribed"."""

from __future__ import annotations

from email.message import EmailMessage

from digest.config import Settings
from digest.mail.message import build_message
from digest.subscribers.links import Links
from digest.subscribers.models import Subscriber
from digest.templating import environment


def signup_message(
    settings: Settings, kind: str, subscriber: Subscriber, links: Links, topic_names: dict[str, str]
) -> EmailMessage:
    """``kind`` is "confirm" or "reminder" (the outcome of a sign-up request)."""
    env = environment("email")
    context = {
        "links": links,
        "topics": [topic_names.get(slug, slug) for slug in subscriber.topic_slugs],
        "frequency": subscriber.frequency,
        "confirm_hours": settings.privacy.confirm_link_hours,
        "contact_line": settings.mail.contact_line,
        "sender": settings.mail.from_name,
    }
    subject = {
        "confirm": f"Confirm your subscription to {settings.mail.from_name}",
        "reminder": f"You are already subscribed to {settings.mail.from_name}",
    }[kind]
    return build_message(
        sender=(settings.mail.from_name, settings.mail.from_address),
        to=subscriber.email,
        subject=subject,
        text=env.get_template(f"{kind}.txt").render(**context),
        html=env.get_template(f"{kind}.html").render(**context),
        reply_to=settings.mail.reply_to,
        headers={"Auto-Submitted": "auto-generated"},
    )

"""The stories list's keyset cursor: the (published, id) of a page's last story, opaque to callers.

A cursor is URL-safe base64 of ``<published ISO time>|<id>``; anything else (altered, truncated, made
up) is refused with a message rather than read as some other position.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime


class BadCursor(ValueError):
    """A cursor this API did not give out."""


def make_cursor(published: datetime, story_id: int) -> str:
    raw = f"{published.astimezone(UTC).isoformat()}|{story_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        published_text, _, id_text = raw.partition("|")
        published = datetime.fromisoformat(published_text)
        story_id = int(id_text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadCursor("the cursor is not one this API gave out: pass next_cursor from the previous page") from None
    if published.tzinfo is None or story_id < 1 or not id_text.isdigit():
        raise BadCursor("the cursor is not one this API gave out: pass next_cursor from the previous page")
    return published, story_id

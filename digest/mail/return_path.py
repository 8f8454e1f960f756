"""The envelope sender of each digest: a VERP address that names its delivery without the reader's address.

``bounces+d<delivery id>-<tag>@bounce.example.org``: the tag is a truncated HMAC of the delivery id, so
a bounce can be tied to the delivery it is about even when the report itself is mangled, and nobody can
forge bounces for other readers' deliveries by guessing numbers. Everything is lower case and hex,
because mail servers may change the case of a local part. One HMAC per message: cheap on the send path.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence

_TAG_BYTES = 8
_KEY = re.compile(r"\+d([0-9a-z]{1,13})-([0-9a-f]{16})@", re.IGNORECASE)


class ReturnPath:
    """Makes and reads VERP envelope senders for one bounce address (``bounces@bounce.example.org``)."""

    def __init__(self, bounce_address: str | None, fallback: str, secrets: Sequence[str]) -> None:
        self.fallback = fallback
        local, _, domain = (bounce_address or "").rpartition("@")
        self.local, self.domain = local, domain
        # The newest key signs, every listed key verifies: addresses keep working across a key rotation.
        self._keys = [hashlib.sha256(b"digest.return-path:" + s.encode()).digest() for s in reversed(secrets)]

    @property
    def enabled(self) -> bool:
        return bool(self.local and self.domain and self._keys)

    def for_delivery(self, delivery_id: int) -> str:
        """The envelope sender of one delivery (the plain From address when no bounce address is set)."""
        if not self.enabled:
            return self.fallback
        number = _base36(delivery_id)
        return f"{self.local}+d{number}-{self._tag(self._keys[0], number)}@{self.domain}"

    def delivery_of(self, address: str) -> int | None:
        """The delivery id inside a VERP address this service made, or None (absent, altered, foreign)."""
        match = _KEY.search(address or "")
        if match is None:
            return None
        number, tag = match.group(1).lower(), match.group(2).lower()
        if any(hmac.compare_digest(self._tag(key, number), tag) for key in self._keys):
            return int(number, 36)
        return None

    @staticmethod
    def _tag(key: bytes, number: str) -> str:
        return hmac.digest(key, number.encode(), "sha256")[:_TAG_BYTES].hex()


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text

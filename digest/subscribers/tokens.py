"""Signed links: opaque, unforgeable, purpose-bound, and still valid across a key rotation.

A token carries the subscriber's random link key (never the address), signed with itsdangerous under
a salt naming its purpose, so an unsubscribe token cannot confirm and a confirmation token cannot
open preferences. Links signed with a previous key keep working while that key is listed.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Sequence

from itsdangerous import BadSignature, HMACAlgorithm, SignatureExpired, Signer, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode, int_to_bytes

PURPOSES = ("confirm", "preferences", "unsubscribe", "csrf", "session", "editor-csrf", "editor-flash")


class BadLink(Exception):
    """The token was altered, expired, made for another purpose or by a key no longer listed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.expired = reason == "expired"


class LinkSigner:
    def __init__(self, current_key: str, previous_keys: Sequence[str] = ()) -> None:
        if not current_key:
            raise ValueError("an empty signing key")
        # itsdangerous signs with the last key and accepts any of them.
        self._keys = [*previous_keys, current_key]
        # One serializer per purpose, made once: a digest run signs two links for every copy.
        self._serializers = {p: URLSafeTimedSerializer(self._keys, salt=f"digest.{p}") for p in PURPOSES}
        self._signers = {p: s.make_signer(s.salt) for p, s in self._serializers.items()}
        # What make_each signs with: itsdangerous's derived key (HMAC algorithm) per purpose.
        self._keyed = {p: _keyed(signer) for p, signer in self._signers.items()}
        self._stamp: tuple[int, bytes] = (-1, b"")

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        if purpose not in PURPOSES:
            raise ValueError(f"unknown link purpose {purpose!r}")
        return self._serializers[purpose]

    @property
    def keys(self) -> tuple[str, ...]:
        """Every listed key, the current one last (other signatures derive their own keys from them)."""
        return tuple(self._keys)

    def make(self, purpose: str, link_key: str) -> str:
        return str(self._serializer(purpose).dumps(link_key))

    def make_each(self, purposes: Sequence[str], link_key: str) -> list[str]:
        """Tokens for several purposes at once, each exactly what ``make`` gives.

        The encoded payload and the timestamp do not depend on the purpose (only the signature's
        salt does), so they are made once; each signature is one HMAC in C with the key
        itsdangerous derives for that purpose, made once per signer: every digest copy signs two
        links, and itsdangerous derives the key again for every signature.
        """
        for purpose in purposes:
            self._serializer(purpose)
        payload = self._serializers[purposes[0]].dump_payload(link_key)
        now = int(time.time())
        stamp = self._stamp
        if stamp[0] != now:
            stamp = self._stamp = (now, base64_encode(int_to_bytes(now)))
        tokens = []
        for purpose in purposes:
            key, digest, sep = self._keyed[purpose]
            value = payload + sep + stamp[1]
            tokens.append((value + sep + base64_encode(hmac.digest(key, value, digest))).decode("ascii"))
        return tokens

    def read(self, purpose: str, token: str, max_age_seconds: int | None = None, max_length: int = 500) -> str:
        """The link key inside a valid token; raises BadLink otherwise."""
        if not token or len(token) > max_length:
            raise BadLink("malformed")
        try:
            value = self._serializer(purpose).loads(token, max_age=max_age_seconds)
        except SignatureExpired:
            raise BadLink("expired") from None
        except BadSignature:
            raise BadLink("invalid") from None
        if not isinstance(value, str):
            raise BadLink("invalid")
        return value


def _keyed(signer: Signer) -> tuple[bytes, str, bytes]:
    """The key, hash name and separator itsdangerous signs with for this signer (HMAC only)."""
    if not isinstance(signer.algorithm, HMACAlgorithm):
        raise TypeError("links are signed with HMAC")
    return signer.derive_key(), signer.digest_method().name, signer.sep

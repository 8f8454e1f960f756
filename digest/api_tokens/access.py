"""Issuing, checking and revoking API tokens, and what each scope allows.

Scopes are ordered: ``read`` < ``subscribers`` < ``admin``; a token may do what its scope and every
lower scope allow. The token is 256 random bits; only its SHA-256 is stored. A fast hash is enough
here (unlike for passwords): nobody can guess 256 random bits, so there is nothing for a slow hash to
slow down, and the hash can be looked up directly on every request.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from digest.api_tokens import store
from digest.api_tokens.models import ApiToken

SCOPES = ("read", "subscribers", "admin")
PREFIX = "dgt_"  # lets secret scanners and people recognise a digest token
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# A token's last use is written at most this often, so reading the API does not write on every call.
TOUCH_EVERY = timedelta(minutes=1)


class TokenProblem(ValueError):
    """A name or scope that cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling the API: the token's name (for the consent log) and its scope."""

    name: str
    scope: str
    touch_id: int | None = None  # set when the token's last use is older than TOUCH_EVERY

    def allows(self, needed: str) -> bool:
        return SCOPES.index(self.scope) >= SCOPES.index(needed)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, name: str, scope: str, now: datetime) -> str:
    """A new token named ``name``; returned once, stored only as its hash."""
    if not _NAME.match(name):
        raise TokenProblem(
            f"'{name}' cannot name a token: use up to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    if scope not in SCOPES:
        raise TokenProblem(f"unknown scope '{scope}': the scopes are {', '.join(SCOPES)}")
    existing = store.by_name(session, name)
    if existing is not None:
        state = " (revoked)" if existing.revoked_at else ""
        raise TokenProblem(f"a token named '{name}' exists already{state}: choose another name")
    token = PREFIX + secrets.token_urlsafe(32)
    store.add(session, name, scope, hash_token(token), now)
    return token


def revoke_token(session: Session, name: str, now: datetime) -> ApiToken:
    token = store.by_name(session, name)
    if token is None:
        raise TokenProblem(f"no token is named '{name}'")
    if token.revoked_at is None:
        token.revoked_at = now
    return token


def caller_of(session: Session, presented: str, now: datetime) -> Caller | None:
    """The caller a presented token stands for; None when it is unknown or revoked. Reads only."""
    token = store.by_hash(session, hash_token(presented))
    if token is None or token.revoked_at is not None:
        return None
    stale = token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY
    return Caller(token.name, token.scope, token.id if stale else None)


def note_use(session: Session, caller: Caller, now: datetime) -> None:
    """Record when a token was last used (shown by ``digest tokens list``)."""
    if caller.touch_id is not None:
        store.touch(session, caller.touch_id, now)

"""All SQL of API tokens: add, look up by hash, list, revoke, note the last use."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from digest.api_tokens.models import ApiToken


def by_name(session: Session, name: str) -> ApiToken | None:
    return session.scalar(select(ApiToken).where(ApiToken.name == name))


def by_hash(session: Session, token_hash: str) -> ApiToken | None:
    return session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))


def add(session: Session, name: str, scope: str, token_hash: str, now: datetime) -> ApiToken:
    token = ApiToken(name=name, scope=scope, token_hash=token_hash, created_at=now)
    session.add(token)
    session.flush()
    return token


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.name)))


def touch(session: Session, token_id: int, now: datetime) -> None:
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))

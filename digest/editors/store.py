"""All SQL about editors, and their passwords (argon2id via argon2-cffi)."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.editors.models import Editor

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
MIN_PASSWORD = 12
_HASHER = PasswordHasher()
# Checked when a name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


class EditorError(ValueError):
    """A name or password that cannot be used; the message says why."""


def set_editor(session: Session, username: str, password: str, now: datetime) -> tuple[Editor, bool]:
    """Create the editor, or change their password; returns (editor, created)."""
    if not USERNAME.match(username):
        raise EditorError("a name is 2 to 63 lower-case letters, digits, dots, dashes or underscores")
    if len(password) < MIN_PASSWORD:
        raise EditorError(f"a password needs at least {MIN_PASSWORD} characters")
    editor = by_name(session, username)
    created = editor is None
    if editor is None:
        editor = Editor(username=username, created_at=now, password_hash="", session_key="")
        session.add(editor)
    editor.password_hash = _HASHER.hash(password)
    editor.session_key = secrets.token_urlsafe(24)
    session.flush()
    return editor, created


def by_name(session: Session, username: str) -> Editor | None:
    return session.scalar(select(Editor).where(Editor.username == username))


def by_session_key(session: Session, session_key: str) -> Editor | None:
    return session.scalar(select(Editor).where(Editor.session_key == session_key))


def check_login(session: Session, username: str, password: str, now: datetime) -> Editor | None:
    editor = by_name(session, username.strip().lower())
    try:
        _HASHER.verify(editor.password_hash if editor else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if editor is None:
        return None
    if _HASHER.check_needs_rehash(editor.password_hash):
        editor.password_hash = _HASHER.hash(password)
    editor.last_login_at = now
    return editor


def change_password(session: Session, editor: Editor, current: str, new: str) -> None:
    """An editor's own change: the current password must be right; every other session ends."""
    try:
        _HASHER.verify(editor.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise EditorError("the current password is not right") from None
    if new == current:
        raise EditorError("the new password is the same as the current one")
    set_editor(session, editor.username, new, editor.created_at)


def remove_editor(session: Session, username: str) -> bool:
    """Delete the account (its sessions end with it); False when there is none of that name."""
    editor = by_name(session, username)
    if editor is None:
        return False
    session.delete(editor)
    session.flush()
    return True


def list_editors(session: Session) -> list[Editor]:
    return list(session.scalars(select(Editor).order_by(Editor.username)))

"""Is this process ready to serve: the database reachable, its schema current, mail configured.

Used by ``GET /readyz`` (the web container's health check) and ``digest health`` (the scheduler's).
Each check answers in one short sentence, so a failing probe says what to fix.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sqlalchemy import Engine

from digest.config import Settings
from digest.db.engine import check_connection
from digest.db.migrate import check_schema
from digest.failures import OperatorError


def readiness_problem(settings: Settings, engine: Engine) -> str | None:
    """None when ready; else the first problem found, in words."""
    try:
        check_connection(engine)
        check_schema(engine)
    except OperatorError as exc:
        return str(exc)
    return mail_problem(settings.mail_url)


def mail_problem(mail_url: str) -> str | None:
    """What keeps mail from being sent with this setting, as far as can be told without sending."""
    parts = urlsplit(mail_url)
    if parts.scheme == "file":
        folder = Path(unquote(parts.netloc + parts.path))
        existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
        if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
            return f"mail outbox {folder} cannot be written (mail_url {parts.scheme}://…)"
        return None
    if parts.scheme in ("smtp", "smtps") and parts.hostname:
        return None
    return "no mail transport is configured (set mail_url)"

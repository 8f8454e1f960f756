"""The JSON API against a real database: one token of each scope, and a revoked one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from digest.api_tokens.access import SCOPES, issue_token, revoke_token
from digest.db.engine import session_scope


@pytest.fixture
def tokens(engine: Engine) -> dict[str, str]:
    """Bearer tokens by scope ("read", "subscribers", "admin"), and "revoked" (an admin token, revoked)."""
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        made = {scope: issue_token(session, f"site-{scope}", scope, now) for scope in SCOPES}
        made["revoked"] = issue_token(session, "old-admin", "admin", now)
        revoke_token(session, "old-admin", now)
    return made


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}

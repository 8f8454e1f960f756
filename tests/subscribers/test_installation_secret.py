"""The installation's own secrets (signing key, suppression salt) are made once, even by two requests
that find one missing at the same moment."""

from __future__ import annotations

import threading

from sqlalchemy import Engine, delete

from digest.db.engine import session_scope
from digest.subscribers import store
from digest.subscribers.models import AppSecret


def test_two_requests_making_a_missing_secret_agree(engine: Engine) -> None:
    with session_scope(engine) as s:
        s.execute(delete(AppSecret))
    seen: list[str] = []
    with session_scope(engine) as first:
        mine = store.installation_secret(first, "suppression_salt")  # made, not committed yet
        other = threading.Thread(
            target=lambda: seen.append(store.installation_secret(second, "suppression_salt")), daemon=True
        )
        with session_scope(engine) as second:
            other.start()
            other.join(timeout=0.5)  # it waits for the first transaction to end
            first.commit()
            other.join(timeout=30)
    assert seen == [mine]
    with session_scope(engine) as s:
        assert store.installation_secret(s, "suppression_salt") == mine

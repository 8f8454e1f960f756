"""API tokens: random, shown once, found by their hash only, ordered scopes, revocation at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from digest.api_tokens import store
from digest.api_tokens.access import (
    SCOPES,
    Caller,
    TokenProblem,
    caller_of,
    hash_token,
    issue_token,
    note_use,
    revoke_token,
)
from digest.db.engine import session_scope

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@given(st.sampled_from(SCOPES), st.sampled_from(SCOPES))
def test_a_scope_allows_itself_and_every_lower_one(held: str, needed: str) -> None:
    assert Caller("site", held).allows(needed) == (SCOPES.index(held) >= SCOPES.index(needed))


def test_tokens_are_found_by_hash_and_stop_when_revoked(engine: Engine) -> None:
    with session_scope(engine) as session:
        tokens = {issue_token(session, f"t{n}", "read", NOW) for n in range(20)}
        assert len(tokens) == 20 and all(len(t) >= 46 for t in tokens)
        token = sorted(tokens)[0]
        stored = store.by_hash(session, hash_token(token))
        assert stored is not None and stored.token_hash != token
        caller = caller_of(session, token, NOW)
        assert caller is not None and caller.scope == "read" and caller.touch_id == stored.id
        assert caller_of(session, token[:-1], NOW) is None
        assert caller_of(session, stored.token_hash, NOW) is None  # the stored hash is no token
        note_use(session, caller, NOW)
        again = caller_of(session, token, NOW + timedelta(seconds=30))
        assert again is not None and again.touch_id is None  # used a moment ago: nothing to write
        revoke_token(session, stored.name, NOW)
        assert caller_of(session, token, NOW) is None


@pytest.mark.parametrize(
    ("name", "scope", "said"),
    [("", "read", "cannot name a token"), ("-x", "read", "cannot name a token"), ("x" * 65, "read", "cannot name"),
     ("ok", "owner", "unknown scope 'owner'")],
)  # fmt: skip
def test_bad_names_and_scopes_are_refused(engine: Engine, name: str, scope: str, said: str) -> None:
    with session_scope(engine) as session, pytest.raises(TokenProblem, match=said):
        issue_token(session, name, scope, NOW)

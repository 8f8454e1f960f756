"""``digest tokens``: a token shown once as the last word, stored only as a hash, listed, revoked."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from digest.config import Settings
from digest.tagging.rules import Ruleset
from digest.web.app import create_app
from tests.cli.test_feeds_cli import run


def test_add_list_revoke(database_url: str, engine: Engine, ruleset: Ruleset) -> None:
    added = run(database_url, "tokens", "add", "outlet-site", "--scope", "subscribers")
    assert added.exit_code == 0, added.output
    token = added.output.split()[-1]  # what a script takes
    assert token.startswith("dgt_") and len(token) > 40
    assert "shown only now" in added.output
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT name, scope, token_hash FROM api_tokens")).one()
    assert stored[:2] == ("outlet-site", "subscribers") and token not in stored[2] and len(stored[2]) == 64

    client = TestClient(create_app(Settings(database_url=database_url), engine, ruleset))
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/topics", headers=headers).status_code == 200

    listed = json.loads(run(database_url, "tokens", "list", "--json").output)
    assert [(t["name"], t["scope"], t["revoked"]) for t in listed] == [("outlet-site", "subscribers", None)]
    assert listed[0]["last_used"] is not None
    assert token not in run(database_url, "tokens", "list").output

    revoked = run(database_url, "tokens", "revoke", "outlet-site")
    assert revoked.exit_code == 0 and "calls with it get 401" in revoked.output
    assert client.get("/api/topics", headers=headers).status_code == 401
    assert "revoked" in run(database_url, "tokens", "list").output


def test_mistakes_are_one_line_and_exit_2(database_url: str) -> None:
    assert run(database_url, "tokens", "add", "site").exit_code == 0
    for args, said in [
        (("add", "site"), "a token named 'site' exists already: choose another name"),
        (("add", "two words"), "'two words' cannot name a token"),
        (("add", "other", "--scope", "root"), "'root' is not one of 'read', 'subscribers', 'admin'"),
        (("revoke", "nobody"), "no token is named 'nobody'"),
    ]:
        result = run(database_url, "tokens", *args)
        assert result.exit_code == 2 and said in result.output, result.output
        assert "Traceback" not in result.output
    assert run(database_url, "tokens", "list").output.startswith("site\tread\t")

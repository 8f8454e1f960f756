"""An editor's own account page over real HTTP: changing the password ends the other sessions only."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from digest.config import Settings
from digest.tagging.rules import Ruleset
from digest.web.app import create_app
from tests.web.conftest import EDITOR_PASSWORD, csrf, notice

NEW = "a much longer new passphrase"


def test_changing_ones_own_password(
    editor_client: TestClient, web_settings: Settings, engine: Engine, ruleset: Ruleset
) -> None:
    with TestClient(create_app(web_settings, engine, ruleset), follow_redirects=False) as other_browser:
        assert (
            other_browser.post("/editor/login", data={"username": "alice", "password": EDITOR_PASSWORD}).status_code
            == 303
        )
        assert other_browser.get("/editor/feeds").status_code == 200
        page = editor_client.get("/editor/account")
        assert "Signed in as <strong>alice</strong>" in page.text
        token = csrf(page.text)
        wrong = editor_client.post(
            "/editor/account/password", data={"csrf": token, "current": "not it", "new": NEW, "repeat": NEW}
        )
        assert wrong.status_code == 400
        assert notice(wrong.text) == "error: Not done: the password of alice The current password is not right."
        assert NEW not in wrong.text and "not it" not in wrong.text  # passwords never come back
        differ = editor_client.post(
            "/editor/account/password",
            data={"csrf": token, "current": EDITOR_PASSWORD, "new": NEW, "repeat": NEW + "x"},
        )
        assert "The new password and its repetition differ." in notice(differ.text)
        short = editor_client.post(
            "/editor/account/password",
            data={"csrf": token, "current": EDITOR_PASSWORD, "new": "short", "repeat": "short"},
        )
        assert "A password needs at least 12 characters." in notice(short.text)
        changed = editor_client.post(
            "/editor/account/password",
            data={"csrf": token, "current": EDITOR_PASSWORD, "new": NEW, "repeat": NEW},
            follow_redirects=True,
        )
        assert notice(changed.text) == (
            "success: Done: the password of alice Changed; every other session is signed out."
        )
        assert editor_client.get("/editor/feeds").status_code == 200  # this browser stays signed in
        assert other_browser.get("/editor/feeds").status_code == 303  # the other one is signed out
        assert (
            other_browser.post("/editor/login", data={"username": "alice", "password": EDITOR_PASSWORD}).status_code
            == 401
        )
        assert other_browser.post("/editor/login", data={"username": "alice", "password": NEW}).status_code == 303

"""What the console's forms share: notices, carried across a redirect in a signed one-time cookie, and
the small readers of posted values and times.

A notice says whether something worked and what it was about ("Feed Cyber Law Wire: paused"). It
travels from a form's redirect to the next page in a cookie signed for the editor's session and
good for a minute, read once and then deleted, so nobody can make the console show a message by
sending a crafted link. A form with a mistake is not redirected: its page is shown again, with the
error and what the editor typed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from digest.editors.models import Editor
from digest.subscribers.tokens import BadLink
from digest.web.common import state

FLASH_COOKIE = "digest_editor_notice"
FLASH_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Notice:
    kind: Literal["success", "error"]
    text: str
    about: str | None = None  # which feed, story or subscriber the notice is about

    @property
    def heading(self) -> str:
        word = "Done" if self.kind == "success" else "Not done"
        return f"{word}: {self.about}" if self.about else word


def success(text: str, about: str | None = None) -> Notice:
    return Notice("success", text, about)


def error(text: str, about: str | None = None) -> Notice:
    return Notice("error", text, about)


def back(request: Request, editor: Editor, path: str, notice: Notice) -> RedirectResponse:
    """Redirect to ``path`` (303), carrying ``notice`` to the page shown there."""
    response = RedirectResponse(path, status_code=303)
    payload = json.dumps({"k": notice.kind, "t": notice.text, "a": notice.about, "s": editor.session_key})
    response.set_cookie(
        FLASH_COOKIE,
        state(request).signer.make("editor-flash", payload),
        max_age=FLASH_SECONDS,
        path="/editor",
        httponly=True,
        samesite="strict",
        secure=state(request).settings.base_url.startswith("https://"),
    )
    return response


def take_notice(request: Request, editor: Editor) -> Notice | None:
    """The notice a redirect carried here, if it is genuine, recent and for this editor's session."""
    cookie = request.cookies.get(FLASH_COOKIE)
    if not cookie:
        return None
    try:
        data = json.loads(state(request).signer.read("editor-flash", cookie, FLASH_SECONDS))
    except (BadLink, ValueError):
        return None
    if not isinstance(data, dict) or data.get("s") != editor.session_key or data.get("k") not in ("success", "error"):
        return None
    about = data.get("a")
    return Notice(data["k"], str(data.get("t", "")), str(about) if about else None)


def forget_notice(response: Response) -> None:
    """The notice is shown once: the page that shows it deletes the cookie."""
    response.delete_cookie(FLASH_COOKIE, path="/editor")


def format_when(moment: datetime | None, zone: str, *, date_only: bool = False) -> str:
    """A stored UTC time in the configured time zone, always naming the zone."""
    if moment is None:
        return "never"
    local = moment.astimezone(ZoneInfo(zone))
    return local.strftime("%Y-%m-%d" if date_only else "%Y-%m-%d %H:%M %Z")


def whole_number(value: str, low: int, high: int) -> int | None:
    """A posted whole number within [low, high], or None when it is not one."""
    text = value.strip()
    if not text.isdigit() or not low <= int(text) <= high:
        return None
    return int(text)


async def read_upload(request: Request, field: str, limit: int) -> bytes:
    """The bytes of an uploaded file (at most ``limit`` + 1, so a caller can tell it was too large)."""
    upload = (await request.form()).get(field)
    if upload is None or isinstance(upload, str):
        return b""
    try:
        return await upload.read(limit + 1)
    finally:
        await upload.close()

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
from digest.feeds.normalise import clip
from digest.subscribers.tokens import BadLink, LinkSigner
from digest.web.common import state

FLASH_COOKIE = "digest_editor_notice"
FLASH_SECONDS = 60
NOTICE_CHARS = 1000
TOKEN_CHARS = 3800


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


def seal_notice(signer: LinkSigner, notice: Notice, session_key: str) -> str:
    """The notice as a signed token, good only with this session key."""
    # A cookie holds about 4 kB: a long notice is cut (its full story is on the page or in the log).
    text, about = clip(notice.text, NOTICE_CHARS), clip(notice.about, 200) if notice.about else None
    return signer.make("editor-flash", json.dumps([notice.kind, text, about, session_key]))


def open_notice(signer: LinkSigner, token: str, session_key: str, max_age: int = FLASH_SECONDS) -> Notice | None:
    """The notice inside a genuine, recent token made for this session key; None for anything else."""
    try:
        data = json.loads(signer.read("editor-flash", token, max_age, max_length=TOKEN_CHARS))
    except (BadLink, ValueError):
        return None
    if not isinstance(data, list) or len(data) != 4 or data[3] != session_key or data[0] not in ("success", "error"):
        return None
    kind, text, about = data[0], data[1], data[2]
    if not isinstance(text, str) or not (about is None or isinstance(about, str)):
        return None
    return Notice(kind, text, about)


def back(request: Request, editor: Editor, path: str, notice: Notice) -> RedirectResponse:
    """Redirect to ``path`` (303), carrying ``notice`` to the page shown there."""
    web = state(request)
    response = RedirectResponse(path, status_code=303)
    response.set_cookie(
        FLASH_COOKIE,
        seal_notice(web.signer, notice, editor.session_key),
        max_age=FLASH_SECONDS,
        path="/editor",
        httponly=True,
        samesite="strict",
        secure=web.settings.base_url.startswith("https://"),
    )
    return response


def take_notice(request: Request, editor: Editor) -> Notice | None:
    """The notice a redirect carried here, if it is genuine, recent and for this editor's session."""
    cookie = request.cookies.get(FLASH_COOKIE)
    return open_notice(state(request).signer, cookie, editor.session_key) if cookie else None


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

"""Bearer tokens on every API call: who is calling, whether the scope allows it, whether the token
has made too many calls this minute.

Answers: no token (or not a bearer one) 401; an unknown or revoked token 401; a token whose scope is
below what the endpoint needs 403; over the limit 429 with ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from digest.api_tokens.access import Caller, caller_of, note_use
from digest.db.engine import session_scope
from digest.web.api.errors import ApiError
from digest.web.api.limits import RateLimiter
from digest.web.common import state

bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="dgt_…",
    description="A token made with `digest tokens add NAME --scope read|subscribers|admin`.",
)
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="digest"'}


def limiter(request: Request) -> RateLimiter:
    found: RateLimiter = request.app.state.limiter
    return found


def require(scope: str) -> Callable[..., Caller]:
    """A dependency: the calling token, which must have ``scope`` or a higher one."""

    def dependency(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
    ) -> Caller:
        if credentials is None or not credentials.credentials:
            raise ApiError(
                401,
                "missing token: send 'Authorization: Bearer <token>' (make one with 'digest tokens add NAME')",
                CHALLENGE,
            )
        web = state(request)
        now = datetime.now(UTC)
        with session_scope(web.engine, read_only=True) as session:
            caller = caller_of(session, credentials.credentials, now)
        if caller is None:
            raise ApiError(401, "this token is not valid: it is unknown or was revoked", CHALLENGE)
        wait = limiter(request).retry_after(caller.name)
        if wait is not None:
            raise ApiError(
                429,
                f"too many requests with the token '{caller.name}': at most "
                f"{limiter(request).per_minute} a minute; try again in {wait} s",
                {"Retry-After": str(wait)},
            )
        if not caller.allows(scope):
            raise ApiError(
                403,
                f"the token '{caller.name}' has the scope '{caller.scope}'; this call needs '{scope}' or higher",
            )
        if caller.touch_id is not None:
            with session_scope(web.engine) as session:
                note_use(session, caller, now)
        return caller

    return dependency


require_read = require("read")
require_subscribers = require("subscribers")
require_admin = require("admin")

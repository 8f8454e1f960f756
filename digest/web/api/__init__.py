"""The JSON API under /api, a FastAPI app of its own (its OpenAPI at /api/openapi.json, its docs at
/api/docs, its JSON errors), mounted into the site's app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from digest import __version__
from digest.web.api import people, reading
from digest.web.api.errors import ErrorBody, install_error_handlers
from digest.web.api.limits import RateLimiter
from digest.web.common import WebState

DESCRIPTION = """Sign-ups, topics, stories, feeds and editions for the outlet's own site and tools.

Every call needs `Authorization: Bearer <token>` (`digest tokens add NAME --scope S`). Scopes are
ordered `read` < `subscribers` < `admin`: a token may do what its scope and every lower one allow.
Errors are JSON: `{"error": "...", "problems": [{"where": ..., "problem": ...}]}`."""
ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorBody, "description": "The body could not be read as JSON"},
    401: {"model": ErrorBody, "description": "No token, or an unknown or revoked one"},
    403: {"model": ErrorBody, "description": "The token's scope is too low for this call"},
    404: {"model": ErrorBody, "description": "Nothing of that name (an address, an edition)"},
    422: {"model": ErrorBody, "description": "The request is not valid; the message says what"},
    429: {"model": ErrorBody, "description": "Too many requests with this token: see Retry-After"},
}
# /api/docs runs Swagger UI: its scripts come from the package, and it needs its own inline start-up.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def create_api(web: WebState) -> FastAPI:
    api = FastAPIOffline(
        title="digest API",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
        static_url="/docs-static",
        responses=ERRORS,
    )
    api.state.web = web
    api.state.limiter = RateLimiter(web.settings.api.rate_limit_per_minute)
    api.include_router(reading.router)
    api.include_router(people.router)
    install_error_handlers(api)

    @api.middleware("http")
    async def docs_policy(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        if request.url.path.endswith("/docs"):
            response.headers["Content-Security-Policy"] = DOCS_POLICY
        return response

    if web.settings.api.cors_origins:
        api.add_middleware(
            CORSMiddleware,
            allow_origins=web.settings.api.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    return api

"""The ASGI app (``create_app``): settings, database and rules are handed in at the edge."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from digest.config import Settings
from digest.subscribers.links import make_signer
from digest.tagging.rules import Ruleset
from digest.web import (
    archive,
    bounce_hooks,
    editor_accounts,
    editor_auth,
    editor_bounces,
    editor_editions,
    editor_events,
    editor_feeds,
    editor_pages,
    editor_preview,
    editor_stories,
    editor_subscribers,
    health,
    preferences,
    subscribe,
    unsubscribe,
)
from digest.web.api import create_api
from digest.web.api.errors import http_error as api_http_error
from digest.web.common import FormExpired, LinkProblem, WebState, message_page

STATIC = Path(__file__).parent / "static"
SECURITY_HEADERS = {
    # No scripts at all: pages work without JavaScript, so none is allowed to run.
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Links carry signed tokens: never leak them to another site.
    "Referrer-Policy": "no-referrer",
}


def create_app(settings: Settings, engine: Engine, ruleset: Ruleset) -> FastAPI:
    app = FastAPI(title="digest", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.web = WebState(settings, engine, ruleset, make_signer(settings, engine))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/api", create_api(app.state.web), name="api")
    app.include_router(health.router)
    app.include_router(subscribe.router)
    app.include_router(preferences.router)
    app.include_router(unsubscribe.router)
    app.include_router(archive.router)
    app.include_router(editor_auth.router)
    app.include_router(editor_pages.router)
    app.include_router(editor_feeds.router)
    app.include_router(editor_stories.router)
    app.include_router(editor_events.router)
    app.include_router(editor_subscribers.router)
    app.include_router(editor_accounts.router)
    app.include_router(editor_preview.router)
    app.include_router(editor_editions.router)
    app.include_router(bounce_hooks.router)
    app.include_router(editor_bounces.router)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(LinkProblem)
    async def bad_link(request: Request, exc: LinkProblem) -> HTMLResponse:
        if exc.expired:
            return message_page(
                request,
                "This link has expired",
                "Links to confirm a subscription work for a limited time. Sign up again to get a new one.",
                status=exc.status,
                link={"url": "/", "text": "Go to the sign-up form"},
            )
        return message_page(
            request,
            "This link is not valid",
            "It may have been copied incompletely, or it is no longer in use. Links in our mails work as sent.",
            status=exc.status,
            link={"url": "/", "text": "Go to the sign-up form"},
        )

    @app.exception_handler(editor_auth.NotSignedIn)
    async def sign_in_first(request: Request, exc: editor_auth.NotSignedIn) -> Response:
        if request.method == "GET":
            return RedirectResponse("/editor/login", status_code=303)
        return message_page(
            request,
            "Sign in first",
            "This page is for editors.",
            status=403,
            link={"url": "/editor/login", "text": "Sign in"},
        )

    @app.exception_handler(FormExpired)
    async def form_expired(request: Request, exc: FormExpired) -> HTMLResponse:
        return message_page(
            request,
            "This form has expired",
            "For your safety, forms work for a limited time. Reload the page and try again.",
            status=403,
        )

    @app.exception_handler(RequestValidationError)
    async def bad_address(request: Request, exc: RequestValidationError) -> Response:
        if not request.url.path.startswith("/editor/"):
            return await request_validation_exception_handler(request, exc)  # JSON, as FastAPI answers
        # A console address with a part that is not what the route takes (/editor/feeds/abc/edit).
        return message_page(
            request,
            "Page not found",
            "Start again from the sign-up form.",
            status=404,
            link={"url": "/", "text": "Go to the sign-up form"},
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            # Addresses the API's mount cannot take (a line break in the path): still answered in JSON.
            return await api_http_error(request, exc)
        heading = {404: "Page not found", 405: "Not allowed here"}.get(exc.status_code, "Something went wrong")
        return message_page(
            request,
            heading,
            "Start again from the sign-up form.",
            status=exc.status_code,
            link={"url": "/", "text": "Go to the sign-up form"},
        )

    return app

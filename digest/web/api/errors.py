"""JSON errors for the API: one ``error`` sentence a developer can act on, and ``problems`` naming
each field that was wrong, instead of FastAPI's default validation output or the site's HTML pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException


class Problem(BaseModel):
    where: str
    problem: str


class ErrorBody(BaseModel):
    error: str
    problems: list[Problem] = []


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status, headers=dict(headers or {}))


def _where(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location) or "request"


async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    words = {404: "no such API endpoint: see /api/docs", 405: "this endpoint does not take that method"}
    message = words.get(exc.status_code) or str(exc.detail)
    return error_response(exc.status_code, message, exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"where": _where(tuple(e["loc"])), "problem": str(e["msg"])} for e in exc.errors()]
        first = problems[0] if problems else {"where": "request", "problem": "not valid"}
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        message = f"{first['where']}: {first['problem']}{more}"
        return error_response(422, message, problems=problems)

    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]

"""Probes and metrics for whoever runs the service: /healthz (the process answers), /readyz (it can
do its work: database reachable, schema current, mail configured) and /metrics (Prometheus, off
unless ``metrics.enabled``)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from digest.monitoring.readiness import readiness_problem
from digest.web.common import state

router = APIRouter(include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}


@router.get("/healthz")
def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    web = state(request)
    problem = readiness_problem(web.settings, web.engine)
    if problem is not None:
        return JSONResponse({"status": "not ready", "reason": problem}, status_code=503, headers=NO_STORE)
    return JSONResponse({"status": "ready"}, headers=NO_STORE)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST

    from digest.web.metrics import render_metrics

    web = state(request)
    settings = web.settings.metrics
    if not settings.enabled:
        return PlainTextResponse("metrics are off (metrics.enabled = false)\n", status_code=404)
    if settings.token is not None:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {settings.token}".encode()):
            return PlainTextResponse(
                "send Authorization: Bearer <metrics.token>\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
    body = await run_in_threadpool(render_metrics, web.engine)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers=NO_STORE)

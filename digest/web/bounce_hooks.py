"""Webhooks of hosted senders (Amazon SES through SNS, Mailgun, Postmark): bounces and complaints.

Each call is checked first (see digest.bounces.hosted); an unsigned or wrongly signed one is answered
401 and changes nothing. A webhook whose secret is not configured answers 404, as if it did not exist.
Accepted events go to the same processor as bounces that arrive by mail.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from digest.bounces.hosted import (
    Event,
    Refused,
    confirm_subscription,
    mailgun_event,
    postmark_event,
    ses_event,
    verify_mailgun,
    verify_postmark,
    verify_sns,
)
from digest.bounces.process import Processor
from digest.web.common import WebState, state

router = APIRouter()
MAX_BODY = 256 * 1024


@router.post("/hooks/ses")
async def ses(request: Request) -> Response:
    web = state(request)
    if not web.settings.bounces.ses_topic_arns:
        return _answer(404, "not configured")
    message = await _json(request)
    if message is None:
        return _answer(400, "not JSON")
    return await run_in_threadpool(_ses, web, message)  # fetches a certificate, writes the database


def _ses(web: WebState, message: dict[str, Any]) -> Response:
    try:
        verify_sns(web.settings.bounces, message)
        if message.get("Type") == "SubscriptionConfirmation":
            confirm_subscription(web.settings.bounces, message)
            return _answer(200, "subscribed")
    except Refused as exc:
        return _answer(401, str(exc))
    return _process(web, ses_event(message) if message.get("Type") == "Notification" else None, "ses", message)


@router.post("/hooks/mailgun")
async def mailgun(request: Request) -> Response:
    web = state(request)
    if not web.settings.bounces.mailgun_signing_key:
        return _answer(404, "not configured")
    payload = await _json(request)
    if payload is None:
        return _answer(400, "not JSON")
    try:
        verify_mailgun(web.settings.bounces, payload)
    except Refused as exc:
        return _answer(401, str(exc))
    return await run_in_threadpool(_process, web, mailgun_event(payload), "mailgun", payload)


@router.post("/hooks/postmark")
async def postmark(request: Request) -> Response:
    web = state(request)
    if not web.settings.bounces.postmark_credentials:
        return _answer(404, "not configured")
    try:
        verify_postmark(web.settings.bounces, request.headers.get("authorization", ""))
    except Refused as exc:
        return _answer(401, str(exc))
    payload = await _json(request)
    if payload is None:
        return _answer(400, "not JSON")
    return await run_in_threadpool(_process, web, postmark_event(payload), "postmark", payload)


def _process(web: WebState, event: Event | None, source: str, payload: dict[str, Any]) -> Response:
    if event is None:
        return _answer(200, "ignored")  # deliveries, opens and the like: nothing to do
    processor = Processor(web.engine, web.settings, web.signer.keys)
    original = json.dumps(payload, sort_keys=True).encode()
    key = event.key or hashlib.sha256(original).hexdigest()  # no id given: the same payload is the same event
    outcome = processor.process_event(event.verdict, event.clues, key, source, original)
    return _answer(200, f"{outcome.kind}: {outcome.action}")


async def _json(request: Request) -> dict[str, Any] | None:
    body = await request.body()
    if len(body) > MAX_BODY:
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _answer(status: int, text: str) -> Response:
    return JSONResponse({"result": text}, status_code=status)

"""Fetching feeds over HTTP: concurrent, bounded, polite and hard to hurt.

Each fetch sends the stored ETag / Last-Modified (a 304 costs one round trip and stores nothing),
follows a bounded number of redirects (remembering the new address only when every hop was
permanent), reads at most ``max_bytes`` of the decoded body, gives up after a total time limit, and
turns every failure into a ``FetchResult`` with a message instead of an exception, so one bad feed can
never stop a poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

from digest.config import FeedSettings
from digest.failures import describe_error

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)
PERMANENT_REDIRECTS = frozenset({301, 308})


@dataclass(frozen=True, slots=True)
class FetchRequest:
    feed_id: int
    url: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    request: FetchRequest
    status_code: int | None = None
    body: bytes | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    # The address to use from now on, set only when every redirect on the way was permanent.
    moved_to: str | None = None
    retry_after: timedelta | None = None
    error: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status_code == 304

    @property
    def gone(self) -> bool:
        return self.status_code == 410


def make_client(settings: FeedSettings, user_agent: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        headers={"User-Agent": user_agent, "Accept": ACCEPT},
        timeout=httpx.Timeout(settings.timeout_seconds, connect=settings.connect_timeout_seconds),
        follow_redirects=True,
        max_redirects=settings.max_redirects,
        limits=httpx.Limits(max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency),
    )


async def fetch_feeds(
    requests: Sequence[FetchRequest], settings: FeedSettings, user_agent: str
) -> AsyncIterator[FetchResult]:
    """Fetch every request, at most ``settings.concurrency`` at once, yielding results as they finish."""
    semaphore = asyncio.Semaphore(settings.concurrency)

    async def bounded(client: httpx.AsyncClient, request: FetchRequest) -> FetchResult:
        async with semaphore:
            return await fetch_feed(client, request, settings)

    async with make_client(settings, user_agent) as client:
        tasks = [asyncio.create_task(bounded(client, request)) for request in requests]
        try:
            for next_done in asyncio.as_completed(tasks):
                yield await next_done
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def fetch_feed(client: httpx.AsyncClient, request: FetchRequest, settings: FeedSettings) -> FetchResult:
    headers = {}
    if request.etag:
        headers["If-None-Match"] = request.etag
    if request.last_modified:
        headers["If-Modified-Since"] = request.last_modified
    try:
        async with asyncio.timeout(settings.timeout_seconds):
            return await _get(client, request, headers, settings.max_bytes)
    except TimeoutError:
        return FetchResult(request, error=f"timed out after {settings.timeout_seconds:g} s")
    except httpx.TimeoutException:
        return FetchResult(request, error=f"timed out after {settings.timeout_seconds:g} s")
    except httpx.TooManyRedirects:
        return FetchResult(request, error=f"more than {settings.max_redirects} redirects (a redirect loop?)")
    except httpx.ConnectError as exc:
        return FetchResult(request, error=f"cannot connect: {describe_error(exc)}")
    except httpx.InvalidURL as exc:
        return FetchResult(request, error=f"invalid URL: {exc}")
    except (httpx.HTTPError, httpx.StreamError) as exc:
        return FetchResult(request, error=f"{type(exc).__name__}: {exc}")


async def _get(
    client: httpx.AsyncClient, request: FetchRequest, headers: dict[str, str], max_bytes: int
) -> FetchResult:
    async with client.stream("GET", request.url, headers=headers) as response:
        moved_to = None
        if response.history and all(r.status_code in PERMANENT_REDIRECTS for r in response.history):
            moved_to = str(response.url)
        result = FetchResult(
            request,
            status_code=response.status_code,
            moved_to=moved_to,
            content_type=response.headers.get("content-type"),
        )
        if response.status_code == 304:
            return result
        if response.status_code >= 400:
            retry_after = None
            if response.status_code in (429, 503):
                retry_after = parse_retry_after(response.headers.get("retry-after"))
            error = f"HTTP {response.status_code} {response.reason_phrase or ''}".strip()
            return replace(result, error=error, retry_after=retry_after)
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            return replace(result, error=f"response too large: {declared} bytes (limit {max_bytes})")
        chunks: list[bytes] = []
        size = 0
        # aiter_bytes yields decoded bytes, so a gzip bomb hits the same limit as a plain huge body.
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                return replace(result, error=f"response too large: more than {max_bytes} bytes")
            chunks.append(chunk)
        return replace(
            result,
            body=b"".join(chunks),
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
        )


def parse_retry_after(value: str | None, now: datetime | None = None) -> timedelta | None:
    """Retry-After as a delay: either whole seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delay = when - (now or datetime.now(UTC))
    return max(delay, timedelta(0))

"""Logging for operators, without secrets: set up once at the edge (the command line, the web server).

Every log line passes one filter before it is written:
- personal links are cut: ``/preferences/<token>``, ``/unsubscribe/<token>`` and ``/confirm/<token>``
  become ``/preferences/…`` (such a link lets whoever holds it export or erase a reader's data);
- API tokens (``dgt_…``) are cut to their prefix;
- e-mail addresses become ``…@example.org`` unless ``logging.addresses = true``.

The web server's access log goes through the same filter. ``logging.format`` chooses one line of
text per event, or one JSON object per line for log collectors: ``time``, ``level``, ``logger``,
``event`` (the message) and ``fields`` (what the event is about: a request's method, path and status
for the access log; whatever a caller passes as ``extra=``), and ``exception`` with a traceback.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO

from digest.config import LoggingSettings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The web routes whose next path segment is a signed personal token (a test checks this against the app).
TOKEN_ROUTES = ("preferences", "unsubscribe", "confirm")
_TOKEN = re.compile(r"(/(?:" + "|".join(TOKEN_ROUTES) + r")/)[^/\s?#\"'<>]+")
# An address, also as it appears URL-encoded in a query string (%40 for @). The local part may hold
# any character an address allows except "/", "?", "=" and "&", which end it in a URL.
_API_TOKEN = re.compile(r"\bdgt_[A-Za-z0-9_-]+")
_ADDRESS = re.compile(r"[\w.!#$%'*+^`{|}~-]+(?:@|%40)((?:[\w-]+\.)+[\w-]{2,})")


def redact(text: str, *, addresses: bool = False) -> str:
    """``text`` with personal tokens cut, and addresses too unless ``addresses`` is true."""
    text = _TOKEN.sub(r"\1…", text)
    text = _API_TOKEN.sub("dgt_…", text)
    if not addresses:
        text = _ADDRESS.sub(r"…@\1", text)
    return text


# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is a field.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
# uvicorn's access log passes the request as arguments: they become named fields.
_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


class RedactFilter(logging.Filter):
    """Rewrites each record's message, arguments, fields and traceback through ``redact`` before any
    handler writes it."""

    def __init__(self, addresses: bool = False) -> None:
        super().__init__()
        self.addresses = addresses

    def _clean(self, value: object) -> object:
        return redact(value, addresses=self.addresses) if isinstance(value, str) else value

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            record.request = dict(zip(_ACCESS_FIELDS, map(self._clean, record.args), strict=True))
        for name in set(vars(record)) - _STANDARD:
            setattr(record, name, self._clean(getattr(record, name)))
        message = record.getMessage()
        cleaned = redact(message, addresses=self.addresses)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), addresses=self.addresses)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, event, fields, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
            "fields": fields_of(record),
        }
        if record.exc_info:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def fields_of(record: logging.LogRecord) -> dict[str, object]:
    """What the event is about, by name: ``extra=`` values, and the request of an access-log line."""
    found = {name: getattr(record, name) for name in sorted(set(vars(record)) - _STANDARD)}
    request = found.pop("request", None)
    return {**request, **found} if isinstance(request, dict) else found


def make_handler(settings: LoggingSettings, stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing to stderr (or ``stream``) in the configured format, through the filter."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if settings.format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RedactFilter(addresses=settings.addresses))
    return handler


def configure_logging(settings: LoggingSettings, verbose: int = 0) -> Callable[[], None]:
    """Give the root logger digest's handler; -v shows each step, -vv debug. Returns what undoes it,
    for the end of the command (several commands can run in one process, as in tests)."""
    root = logging.getLogger()
    handler, level = make_handler(settings), root.level
    root.addHandler(handler)
    root.setLevel(logging.WARNING - 10 * min(verbose, 2))

    def undo() -> None:
        root.removeHandler(handler)
        root.setLevel(level)

    return undo

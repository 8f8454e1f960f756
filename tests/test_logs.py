"""Log lines without secrets: personal links always cut, addresses unless asked for, two formats."""

from __future__ import annotations

import io
import json
import logging

from hypothesis import given
from hypothesis import strategies as st

from digest.config import LoggingSettings
from digest.logs import make_handler, redact

TOKEN_CHARS = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.="), min_size=1)
# Addresses whose local part has none of the characters that end it inside a URL ("/", "?", "=", "&").
ADDRESSES = st.emails().filter(lambda address: not set(address.split("@")[0]) & set("/?=&"))


@given(TOKEN_CHARS, st.sampled_from(["preferences", "unsubscribe", "confirm"]))
def test_personal_links_are_always_cut(token: str, route: str) -> None:
    line = f'127.0.0.1:5000 - "GET /{route}/{token}/export?x=1 HTTP/1.1" 200'
    expected = f'127.0.0.1:5000 - "GET /{route}/…/export?x=1 HTTP/1.1" 200'
    assert redact(line) == expected
    assert redact(line, addresses=True) == expected


@given(ADDRESSES)
def test_addresses_keep_only_their_domain(address: str) -> None:
    local, domain = address.rsplit("@", 1)
    for template in ("delivery 7 failed: 550 <{}> no such user", "GET /editor/subscribers?q={}&page=2"):
        for written in (address, f"{local}%40{domain}"):
            text = template.format(written)
            assert redact(text) == template.format(f"…@{domain}")
            assert redact(text, addresses=True) == text


def test_other_paths_and_words_are_left_alone() -> None:
    line = '127.0.0.1:1 - "GET /editor/feeds?topic=deepfakes HTTP/1.1" 200'
    assert redact(line) == line


def log_through(settings: LoggingSettings) -> str:
    stream = io.StringIO()
    logger = logging.getLogger("tests.logs")
    logger.propagate = False
    logger.addHandler(handler := make_handler(settings, stream))
    try:
        logger.warning("could not mail %s: see /confirm/%s", "reader@example.org", "secret.token")
        try:
            raise ValueError("refused: reader@example.org")
        except ValueError:
            logger.exception("sending failed")
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_text_lines_and_tracebacks_are_filtered() -> None:
    text = log_through(LoggingSettings())
    assert "WARNING tests.logs: could not mail …@example.org: see /confirm/…" in text
    assert "ValueError: refused: …@example.org" in text
    assert "reader" not in text and "secret.token" not in text


def test_json_lines_with_addresses_when_asked() -> None:
    entries = [json.loads(line) for line in log_through(LoggingSettings(addresses=True, format="json")).splitlines()]
    assert entries[0]["level"] == "WARNING" and entries[0]["logger"] == "tests.logs"
    assert entries[0]["event"] == "could not mail reader@example.org: see /confirm/…"
    assert "ValueError: refused: reader@example.org" in entries[1]["exception"]


@given(st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), min_size=1))
def test_api_tokens_are_cut_to_their_prefix(secret: str) -> None:
    for template in ("GET /api/topics?token={} 200", "Authorization: Bearer {}"):
        assert redact(template.format(f"dgt_{secret}"), addresses=True) == template.format("dgt_…")

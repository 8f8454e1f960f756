"""The private-address guard at every connection: no feed is fetched from a non-public address.

A feed server on loopback counts every TCP connection it accepts; a refused feed leaves it at 0.
Public hosts are played by ``Internet``: connections to a public address reach a loopback server, as
if that server were on the internet, while the guard sees (and checks) the public address.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpcore
import httpx
import pytest
import trustme
from sqlalchemy import Engine

from digest.config import FeedSettings
from digest.db.engine import session_scope
from digest.feeds import store, story_store
from digest.feeds.fetch import FetchRequest, FetchResult, fetch_feed, fetch_feeds
from digest.feeds.guard import GuardedTransport, Resolver, check_feed_url, system_resolve
from digest.feeds.refresh import poll_feeds
from tests.conftest import ROOT
from tests.feeds.test_refresh import RULES, UA
from tests.httpserver import FeedServer, Route

GUARDED = FeedSettings(timeout_seconds=10, connect_timeout_seconds=5, max_redirects=3)
OPEN = GUARDED.model_copy(update={"allow_private_networks": True})
PUBLIC = "93.184.216.34"
SAMPLE = (ROOT / "config" / "sample-feeds" / "cyberlaw-wire.xml").read_bytes()
SECRET = "s3cr3t-internal-answer"

# Every spelling of a loopback or otherwise private address that must be refused; {port} is the
# counting server's, so any of them that got through would show up as a connection.
PRIVATE_FORMS = [
    "127.0.0.1:{port}",
    "localhost:{port}",
    "LocalHost:{port}",
    "[::ffff:127.0.0.1]:{port}",
    "[::ffff:7f00:1]:{port}",
    "2130706433:{port}",  # decimal
    "0x7f000001:{port}",  # hexadecimal
    "017700000001:{port}",  # octal
    "0x7f.1:{port}",  # hexadecimal, short form
    "127.1:{port}",  # short form
    "0.0.0.0:{port}",  # reaches loopback on Linux
    "[::1]:{port}",
    "[::127.0.0.1]:{port}",  # IPv4-compatible
    "[64:ff9b::7f00:1]:{port}",  # NAT64
    "[2002:7f00:1::]:{port}",  # 6to4
    "169.254.169.254",  # cloud metadata
    "[::ffff:169.254.169.254]",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.0.1",
    "100.64.0.1",  # shared address space
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "[fd00::1]",
    "[fe80::1]",
    "[fec0::1]",
    "[ff02::1]",
    "[64:ff9b:1::a00:1]",
]


class Internet(httpcore.AsyncNetworkBackend):
    """Public addresses whose connections reach servers on loopback; any other address is dialled as is."""

    def __init__(self, routes: dict[str, int]) -> None:
        self.routes = routes
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        target, target_port = ("127.0.0.1", self.routes[host]) if host in self.routes else (host, port)
        return await self.inner.connect_tcp(target, target_port, timeout=timeout, socket_options=socket_options)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def resolver(names: dict[str, Sequence[str]]) -> Resolver:
    def resolve(host: str, port: int) -> Sequence[str]:
        return names[host] if host in names else system_resolve(host, port)

    return resolve


def fetch_all(urls: list[str], settings: FeedSettings = GUARDED, resolve: Resolver = system_resolve) -> list[str]:
    """Each URL's error (or "fetched"), in order, through the client every poll uses."""

    async def run() -> list[FetchResult]:
        requests = [FetchRequest(i, url) for i, url in enumerate(urls)]
        return [r async for r in fetch_feeds(requests, settings, UA, resolve=resolve)]

    results = sorted(asyncio.run(run()), key=lambda r: r.request.feed_id)
    return [r.error or "fetched" for r in results]


def fetch_via(url: str, internet: Internet, resolve: Resolver, settings: FeedSettings = GUARDED) -> FetchResult:
    async def run() -> FetchResult:
        transport = GuardedTransport(
            limits=httpx.Limits(max_connections=4),
            allow_private=settings.allow_private_networks,
            resolve=resolve,
            network=internet,
        )
        async with httpx.AsyncClient(
            transport=transport, follow_redirects=True, max_redirects=settings.max_redirects, timeout=2
        ) as client:
            return await fetch_feed(client, FetchRequest(1, url), settings)

    return asyncio.run(run())


def test_every_private_address_form_is_refused_without_connecting(feed_server: FeedServer) -> None:
    feed_server.add("/feed.xml", Route(SAMPLE))
    urls = [f"http://{form.format(port=feed_server.port)}/feed.xml" for form in PRIVATE_FORMS]
    errors = dict(zip(urls, fetch_all(urls), strict=True))
    assert {url: e for url, e in errors.items() if not e.startswith("refused: ")} == {}
    assert feed_server.connections == 0
    by_form = dict(zip(PRIVATE_FORMS, errors.values(), strict=True))
    assert by_form["127.0.0.1:{port}"].startswith("refused: 127.0.0.1 is a loopback address")
    assert "2130706433 resolves to 127.0.0.1, a loopback address" in by_form["2130706433:{port}"]
    assert "IPv4-mapped form of 127.0.0.1" in by_form["[::ffff:127.0.0.1]:{port}"]
    assert "169.254.169.254 is a link-local address" in by_form["169.254.169.254"]
    # The same server with the guard off: the test above could fail.
    assert fetch_all(urls[:1], OPEN) == ["fetched"]


def test_a_public_looking_name_that_resolves_to_loopback_is_refused(feed_server: FeedServer) -> None:
    url = f"http://feeds.example:{feed_server.port}/feed.xml"
    feed_server.add("/feed.xml", Route(SAMPLE))
    to_loopback = resolver({"feeds.example": ["127.0.0.1"]})
    assert fetch_all([url], resolve=to_loopback) == [
        "refused: feeds.example resolves to 127.0.0.1, a loopback address "
        "(feeds are fetched only from public addresses)"
    ]
    # One private address among public ones is enough: a connection may land on any of them.
    mixed = resolver({"feeds.example": [PUBLIC, "10.1.2.3"]})
    assert fetch_all([url], resolve=mixed)[0].startswith("refused: feeds.example resolves to 10.1.2.3")
    assert feed_server.connections == 0
    # Guard off: the connection goes to the address that was resolved, with the original Host header.
    assert fetch_all([url], OPEN, resolve=to_loopback) == ["fetched"]
    assert feed_server.hits("/feed.xml")[0].headers["host"] == f"feeds.example:{feed_server.port}"


def test_the_connection_goes_to_the_address_checked_not_a_second_lookup(feed_server: FeedServer) -> None:
    answers = [[PUBLIC], ["127.0.0.1"]]

    def rebinding(host: str, port: int) -> Sequence[str]:
        # Public when asked first (the check when the feed is added), loopback ever after.
        return answers.pop(0) if len(answers) > 1 else answers[0]

    url = f"http://rebind.example:{feed_server.port}/feed.xml"
    feed_server.add("/feed.xml", Route(SAMPLE))
    assert check_feed_url(url, allow_private=False, resolve=rebinding) is None
    assert fetch_all([url], resolve=rebinding)[0].startswith("refused: rebind.example resolves to 127.0.0.1")
    assert feed_server.connections == 0
    # A name the system cannot resolve, pinned to a public address: fetched from that address only.
    internet = Internet({PUBLIC: feed_server.port})
    result = fetch_via("http://nowhere.invalid/feed.xml", internet, resolver({"nowhere.invalid": [PUBLIC]}))
    assert result.body == SAMPLE
    assert feed_server.hits("/feed.xml")[0].headers["host"] == "nowhere.invalid"


def test_a_redirect_from_a_public_feed_to_a_private_address_is_refused(feed_server: FeedServer) -> None:
    inside = FeedServer()
    inside.start()
    try:
        inside.add("/secret", Route(SECRET.encode()))
        targets = {
            "/to-loopback": f"http://127.0.0.1:{inside.port}/secret",
            "/to-localhost": f"http://localhost:{inside.port}/secret",
            "/to-decimal": f"http://2130706433:{inside.port}/secret",
            "/to-metadata": "http://169.254.169.254/latest/meta-data/",
            "/to-internal-name": "http://intranet.example/secret",
            "/to-file": "file:///etc/passwd",
            "/to-ftp": "ftp://files.example/feed.xml",
        }
        for path, target in targets.items():
            feed_server.add(path, Route(status=302, headers={"Location": target}))
        feed_server.add("/moved", Route(status=301, headers={"Location": "http://other.example/feed.xml"}))
        feed_server.add("/feed.xml", Route(SAMPLE))
        internet = Internet({PUBLIC: feed_server.port})
        names = resolver({"news.example": [PUBLIC], "other.example": [PUBLIC], "intranet.example": ["10.20.30.40"]})
        for path in targets:
            result = fetch_via(f"http://news.example{path}", internet, names)
            assert (result.error or "").startswith("refused: "), (path, result)
            assert result.body is None and SECRET not in (result.error or "")
        assert inside.connections == 0
        assert len(feed_server.hits("/to-loopback")) == 1  # the public hop itself was fetched
        # A redirect to another public host is followed as before.
        moved = fetch_via("http://news.example/moved", internet, names)
        assert moved.body == SAMPLE and moved.moved_to == "http://other.example/feed.xml"
        # And with the guard off the private hop is followed: the assertions above could fail.
        assert fetch_via("http://news.example/to-loopback", internet, names, OPEN).body == SECRET.encode()
    finally:
        inside.stop()


def add_feeds(engine: Engine, *urls: str) -> None:
    # Stored directly, as feeds added before the guard existed (or by a tool that skipped the check).
    with session_scope(engine) as s:
        for url in urls:
            store.add_feed(s, url, None, datetime.now(UTC) - timedelta(minutes=1))


def test_an_internal_answer_never_becomes_a_story(engine: Engine, feed_server: FeedServer) -> None:
    url = feed_server.add("/wire.xml", Route(SAMPLE, headers={"Content-Type": "application/rss+xml"}))
    add_feeds(engine, url)
    report = poll_feeds(engine, GUARDED, UA, RULES)
    assert [(o.status, (o.message or "")[:30]) for o in report.outcomes] == [
        ("error", "refused: 127.0.0.1 is a loopba")
    ]
    assert feed_server.connections == 0
    with session_scope(engine) as s:
        assert story_store.count_stories(s) == 0
        feed = store.get_feed(s, url)
        assert feed.status == "error" and (feed.last_error or "").startswith("refused: ")
    # The control: with the guard off the same feed gives its six stories.
    assert poll_feeds(engine, OPEN, UA, RULES, all_feeds=True).new_stories == 6


def test_stored_errors_never_include_what_a_server_answered(engine: Engine, feed_server: FeedServer) -> None:
    body = f"<html><body>{SECRET}</body></html>".encode()
    routes = {
        "/error.xml": Route(body, 500, {"Content-Type": "text/html"}, reason=f"Oops {SECRET}"),
        "/missing.xml": Route(body, 404, reason=SECRET),
        "/busy.xml": Route(body, 503, {"Retry-After": "60"}, reason=SECRET),
        "/page.xml": Route(body, headers={"Content-Type": "text/html"}),
        "/garbage.xml": Route(SECRET.encode() + b"\x00\xff<rss><channel>" + SECRET.encode()),
        "/broken.xml": Route(f'<?xml version="1.0"?><rss version="2.0"><channel><{SECRET}'.encode()),
        "/loop.xml": Route(body, 302, {"Location": "/loop.xml"}, reason=SECRET),
    }
    urls = [feed_server.add(path, route) for path, route in routes.items()]
    add_feeds(engine, *urls)
    report = poll_feeds(engine, OPEN, UA, RULES)
    assert {o.url: o.status for o in report.outcomes} == dict.fromkeys(urls, "error")
    # Refused: on loopback with the guard on, so never even asked.
    refused = f"http://localhost:{feed_server.port}/error.xml"
    add_feeds(engine, refused)
    poll_feeds(engine, GUARDED, UA, RULES, only=[store_id(engine, refused)])
    with session_scope(engine) as s:
        errors = {feed.url: feed.last_error or "" for feed, _n in store.list_feeds(s)}
    assert all(errors.values()) and len(errors) == len(routes) + 1
    assert [url for url, error in errors.items() if SECRET in error] == []
    assert errors[urls[0]] == "HTTP 500 Internal Server Error"
    assert errors[refused].startswith("refused: localhost resolves to")


def test_an_answer_that_is_not_http_is_not_quoted_in_the_error() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def answer() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.recv(4096)
                connection.sendall(f"220 mail.internal ESMTP {SECRET}\r\n".encode())

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        [error] = fetch_all([f"http://127.0.0.1:{listener.getsockname()[1]}/"], OPEN)
        thread.join(timeout=5)
    assert error == "the server's answer is not valid HTTP"


def store_id(engine: Engine, url: str) -> int:
    with session_scope(engine) as s:
        return store.get_feed(s, url).id


# TLS on a pinned connection: the certificate and SNI are those of the feed's host name, never of the IP.


@pytest.fixture
def tls_ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> trustme.CA:
    """A certificate authority the fetcher trusts (through SSL_CERT_FILE, as an operator would)."""
    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    return ca


@contextmanager
def tls_server(ca: trustme.CA, *names: str) -> Iterator[tuple[FeedServer, list[str | None]]]:
    """A feed server on loopback speaking TLS with a certificate for ``names``; yields it and the SNI names seen."""
    server = FeedServer()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    sni: list[str | None] = []
    context.sni_callback = lambda _socket, name, _context: sni.append(name)
    server.use_tls(context)
    server.start()
    try:
        yield server, sni
    finally:
        server.stop()


def test_a_pinned_https_connection_verifies_the_host_name(tls_ca: trustme.CA) -> None:
    to_loopback = resolver({"feeds.example": ["127.0.0.1"]})
    with tls_server(tls_ca, "feeds.example") as (server, sni):
        server.add("/feed.xml", Route(SAMPLE))
        url = f"https://feeds.example:{server.port}/feed.xml"
        assert fetch_all([url], OPEN, resolve=to_loopback) == ["fetched"]
        assert sni == ["feeds.example"]
        assert server.hits("/feed.xml")[0].headers["host"] == f"feeds.example:{server.port}"
    # A certificate for the address connected to, not for the feed's host, is refused.
    with tls_server(tls_ca, "127.0.0.1", "other.example") as (server, sni):
        server.add("/feed.xml", Route(SAMPLE))
        [error] = fetch_all([f"https://feeds.example:{server.port}/feed.xml"], OPEN, resolve=to_loopback)
        assert error.startswith("cannot connect: ") and "certificate" in error.lower()
        assert sni == ["feeds.example"] and server.hits("/feed.xml") == []

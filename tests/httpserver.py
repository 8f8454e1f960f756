"""A programmable HTTP server on loopback: real sockets, real HTTP, answers chosen per test."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    # When set, the body is this generator's chunks, sent without Content-Length (chunked, endless...).
    stream: Callable[[], Iterator[bytes]] | None = None
    reason: str | None = None  # the status line's phrase, when not the standard one


@dataclass
class SeenRequest:
    path: str
    headers: dict[str, str]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a test may leave a slow handler sleeping
    request_queue_size = 128  # the default 5 drops connections when a poll opens ten at once
    connections = 0  # every TCP connection accepted, whether or not it sent a request

    def process_request(self, request: Any, client_address: Any) -> None:
        self.connections += 1
        super().process_request(request, client_address)


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route | Callable[[SeenRequest], Route]] = {}
        self.requests: list[SeenRequest] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                seen = SeenRequest(self.path, {k.lower(): v for k, v in self.headers.items()})
                server.requests.append(seen)
                route = server.routes.get(self.path.split("?")[0])
                if callable(route):
                    route = route(seen)
                if route is None:
                    route = Route(b"not found", 404, {"Content-Type": "text/plain"})
                if route.delay:
                    time.sleep(route.delay)
                try:
                    self.send_response(route.status, route.reason)
                    for name, value in route.headers.items():
                        self.send_header(name, value)
                    if route.stream is not None:
                        self.send_header("Connection", "close")
                        self.end_headers()
                        for chunk in route.stream():
                            self.wfile.write(chunk)
                        self.close_connection = True
                        return
                    self.send_header("Content-Length", str(len(route.body)))
                    self.end_headers()
                    if route.status != 304:
                        self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        # A client that gave up (timeouts, size limits) leaves a broken socket behind: not a test failure.
        self._server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def connections(self) -> int:
        return self._server.connections

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, route: Route | Callable[[SeenRequest], Route]) -> str:
        self.routes[path] = route
        return self.url(path)

    def hits(self, path: str) -> list[SeenRequest]:
        return [r for r in self.requests if r.path.split("?")[0] == path]

    def use_tls(self, context: ssl.SSLContext) -> None:
        """Speak HTTPS with this server-side context (before ``start``); URLs still say http:// here."""
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

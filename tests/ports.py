"""Loopback ports for tests that need nobody listening."""

from __future__ import annotations

import socket


def closed_port() -> int:
    """A loopback port nobody listens on (bound by the system, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

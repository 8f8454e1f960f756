"""Failures an operator can fix, and low-level ones (network, name lookup, file system) in words.

Python's own texts (``[Errno 111] Connect call failed ('127.0.0.1', 1)``) are for programmers; the
messages people read say "connection refused", "name not found" or "timed out". ``describe_error``
looks through the chain of causes, because libraries wrap the operating system's error in their own.
"""

from __future__ import annotations

import errno
import os


class OperatorError(Exception):
    """A mistake in how digest is set up or pointed at (settings, database, mail server, rules file).

    The command line prints the message as it is, without a traceback, and exits with status 2; the
    message says which thing is wrong and, where it can, what to do.
    """


_ERRNO_WORDS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset",
    errno.ECONNABORTED: "connection aborted",
    errno.EPIPE: "connection closed",
    errno.ETIMEDOUT: "timed out",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETUNREACH: "network unreachable",
    errno.EADDRINUSE: "address already in use",
    errno.EADDRNOTAVAIL: "address not available here",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOENT: "no such file or folder",
    errno.ENOTDIR: "not a folder",
    errno.EISDIR: "is a folder",
    errno.EEXIST: "already exists",
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on the device",
}


def describe_error(exc: BaseException) -> str:
    """The most telling words for ``exc`` or the operating-system error behind it."""
    for cause in _chain(exc):
        words = _words(cause)
        if words:
            return words
    return str(exc) or type(exc).__name__


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    # The innermost error is usually the operating system's, the most precise one.
    return list(reversed(seen))


def _words(exc: BaseException) -> str | None:
    # Imported here: every command loads this module, few ever describe a network failure.
    import socket
    import ssl

    if isinstance(exc, socket.gaierror):
        # Name lookups fail with codes of their own (negative numbers on Linux).
        missing = {getattr(socket, name, None) for name in ("EAI_NONAME", "EAI_NODATA", "EAI_ADDRFAMILY")}
        if exc.errno in missing:
            return "name not found"
        if exc.errno == socket.EAI_AGAIN:
            return "name lookup failed for now (try again later)"
        return "name lookup failed"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate not trusted ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or exc.strerror or 'handshake'})"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.errno:
        return _ERRNO_WORDS.get(exc.errno) or os.strerror(exc.errno).lower()
    return None

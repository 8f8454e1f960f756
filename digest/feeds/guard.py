"""The private-address guard: feeds are fetched only from public addresses.

Whoever can add a feed could otherwise make the server fetch its own internal services (loopback,
the private network, the cloud metadata address) and read parts of the answer back. So every feed
address is checked when it is added, and every connection, redirects included, is checked again
after the host name is resolved and then made to exactly the address that was checked: a name that
resolves to a public address at the check and to 127.0.0.1 a moment later (DNS rebinding) gains
nothing. Numeric spellings the resolver accepts (``2130706433``, ``0x7f.1``, ``017700000001``) are
caught because the check looks at what they resolve to, never at the text.

``feeds.allow_private_networks`` turns the refusal off, for a closed deployment, tests and the demo.
"""

from __future__ import annotations

import asyncio
import select
import socket
import ssl
from collections.abc import Callable, Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

import httpcore
import httpx

# A resolver takes a host and a port and returns the addresses it stands for, like getaddrinfo.
Resolver = Callable[[str, int], Sequence[str]]

SETTING = "feeds.allow_private_networks"
NAT64 = IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits are the IPv4 address reached
LOCAL_NAT64 = IPv6Network("64:ff9b:1::/48")  # RFC 8215: a network's own translators
UNIQUE_LOCAL = IPv6Network("fc00::/7")
IPV4_COMPATIBLE = IPv6Network("::/96")  # deprecated ::a.b.c.d; never a public destination
# IANA special-purpose ranges that some Python versions count as global; none of them hosts a feed.
SPECIAL_PURPOSE = (
    IPv4Network("192.0.0.0/24"),  # IETF protocol assignments (DS-Lite, NAT64 discovery, anycast...)
    IPv4Network("192.88.99.0/24"),  # the retired 6to4 relay anycast
    IPv6Network("2001::/23"),  # IETF protocol assignments (Teredo, benchmarking, ORCHID...)
    IPv6Network("100::/64"),  # discard-only
)


class AddressRefused(Exception):
    """A feed address, or an address a feed's host resolves to, is not public."""


def refusal(address: IPv4Address | IPv6Address) -> str | None:
    """Why nothing may be fetched from this address ("a loopback address"), or None when it is public."""
    if isinstance(address, IPv6Address):
        if address.is_unspecified or address.is_loopback:
            return _own_kind(address)
        if address in IPV4_COMPATIBLE:
            return f"an IPv4-compatible form of {IPv4Address(int(address))}, a reserved address"
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            # These forms reach the IPv4 address inside them: they are as public as it is.
            form, inner = embedded
            reason = refusal(inner)
            return f"{form} form of {inner}, {reason}" if reason else None
    return _own_kind(address)


def _embedded_ipv4(address: IPv6Address) -> tuple[str, IPv4Address] | None:
    if address.ipv4_mapped is not None:
        return "an IPv4-mapped", address.ipv4_mapped
    if address in NAT64:
        return "a NAT64", IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return "a 6to4", address.sixtofour
    return None


def _own_kind(address: IPv4Address | IPv6Address) -> str | None:
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, IPv6Address):
        if address.is_site_local:
            return "a site-local address"
        if address in UNIQUE_LOCAL:
            return "a unique-local address"
        if address in LOCAL_NAT64:
            return "a local-use NAT64 address"
    if any(address in network for network in SPECIAL_PURPOSE):
        return "a special-purpose address"
    if address.is_private:
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:  # shared (carrier-grade NAT), benchmarking, documentation...
        return "not a public address"
    return None


def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host``, in its order of preference."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def checked_addresses(host: str, addresses: Iterable[str]) -> list[str]:
    """The addresses, if every one is public; raises AddressRefused naming the first that is not.

    One private address among public ones refuses the host: a connection may land on any of them.
    """
    found = []
    for text in addresses:
        address = ip_address(text)
        reason = refusal(address)
        if reason is not None:
            subject = f"{host} is" if _same_address(host, address) else f"{host} resolves to {address},"
            raise AddressRefused(f"refused: {subject} {reason} (feeds are fetched only from public addresses)")
        found.append(str(address))
    if not found:
        raise AddressRefused(f"refused: {host} resolves to no address")
    return found


def _same_address(host: str, address: IPv4Address | IPv6Address) -> bool:
    try:
        return ip_address(host.strip("[]")) == address
    except ValueError:
        return False


def check_feed_url(url: str, *, allow_private: bool, resolve: Resolver = system_resolve) -> str | None:
    """Why this feed address cannot be added, in one line, or None when it can.

    A name that does not resolve now is let through: every connection checks it again.
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        return f"'{url}' is not a feed address: {exc}"
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return f"'{url}' is not a feed address: give a full http:// or https:// URL"
    if allow_private:
        return None
    host = parsed.raw_host.decode("ascii")
    try:
        addresses = resolve(host, parsed.port or (443 if parsed.scheme == "https" else 80))
    except (OSError, UnicodeError):
        return None
    try:
        checked_addresses(host, addresses)
    except AddressRefused as exc:
        return f"{exc}; {url} is not added (set {SETTING} on a closed network)"
    return None


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses it has checked: resolves, checks every address, connects to one of them."""

    def __init__(
        self,
        *,
        allow_private: bool,
        resolve: Resolver = system_resolve,
        network: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._inner = network or httpcore.AnyIOBackend()
        self._allow_private = allow_private
        self._resolve = resolve

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                addresses = await loop.run_in_executor(None, self._resolve, host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} took more than {timeout:g} s") from None
        except (OSError, UnicodeError) as exc:
            # Chained, so the error's description finds the resolver's own code ("name not found").
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        targets = list(addresses) if self._allow_private else checked_addresses(host, addresses)
        failure: httpcore.ConnectError | None = None
        for target in targets:
            # The connection goes to the checked address; TLS still verifies the original host name,
            # because httpcore starts TLS with the origin's host as server_hostname.
            try:
                stream = await self._inner.connect_tcp(
                    target, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
                return _Connection(stream)
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AddressRefused("refused: feeds are never fetched over a local socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _Connection(httpcore.AsyncNetworkStream):
    """A connection as the inner backend made it, with its socket looked up once.

    Whenever httpcore hands out a request it asks every idle connection whether the server has
    closed it; anyio answers by building a table of the socket's addresses, several system calls,
    each time: some 40 times per feed in a poll, each handing the interpreter to the writer thread.
    """

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket: socket.socket | None = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        return _Connection(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> object:
        if info == "is_readable" and self._socket is not None:
            # Readable while idle means the server closed it (or sent what nobody asked for), as
            # httpcore's own check: a socket without a descriptor any more counts as readable.
            if self._socket.fileno() < 0:
                return True
            poll = select.poll()
            poll.register(self._socket, select.POLLIN)
            return bool(poll.poll(0))
        return self._inner.get_extra_info(info)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, connecting through a GuardedBackend and refusing non-http(s) addresses."""

    def __init__(
        self,
        *,
        limits: httpx.Limits,
        allow_private: bool,
        resolve: Resolver = system_resolve,
        network: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        ssl_context = httpx.create_ssl_context()  # verifies certificates; honours SSL_CERT_FILE
        super().__init__(verify=ssl_context, limits=limits)
        # httpx has no public way to hand its transport a network backend: replace the connection
        # pool it made with the same pool connecting through the guard. Requests, responses and the
        # mapping of errors stay httpx's own.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allow_private=allow_private, resolve=resolve, network=network),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme not in ("http", "https"):
            raise AddressRefused(f"refused: {request.url} is not an http:// or https:// address")
        return await super().handle_async_request(request)

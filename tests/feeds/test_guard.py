"""The private-address guard's judgement: which addresses are public, and what adding a feed checks.

Property tests run the classifier over every address hypothesis can think of, and numeric host
spellings through the system's own resolver.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, IPv6Network, ip_address, ip_network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.feeds.guard import check_feed_url, refusal

PUBLIC = "93.184.216.34"  # a public address (example.com's, once); never dialled here

BLOCKED_NETWORKS = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.88.99.0/24",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/128",
    "::1/128",
    "::/96",
    "fc00::/7",
    "fe80::/10",
    "fec0::/10",
    "ff00::/8",
    "2001:db8::/32",
    "2001::/23",
    "100::/64",
    "64:ff9b:1::/48",
]


@st.composite
def blocked_addresses(draw: st.DrawFn) -> IPv4Address | IPv6Address:
    network = ip_network(draw(st.sampled_from(BLOCKED_NETWORKS)))
    return network[draw(st.integers(0, network.num_addresses - 1))]


@given(blocked_addresses())
def test_every_address_in_a_non_public_range_is_refused(address: IPv4Address | IPv6Address) -> None:
    assert refusal(address) is not None


@given(st.ip_addresses(v=4))
def test_ipv6_forms_of_an_ipv4_address_are_judged_as_the_address_itself(address: IPv4Address) -> None:
    verdict = refusal(address) is None
    mapped = IPv6Address(f"::ffff:{address}")
    nat64 = IPv6Network("64:ff9b::/96")[int(address)]
    sixtofour = IPv6Address((0x2002 << 112) | (int(address) << 80))
    for form in (mapped, nat64, sixtofour):
        assert (refusal(form) is None) == verdict, form
    assert refusal(IPv6Address(int(address))) is not None  # IPv4-compatible: never public


@given(st.ip_addresses())
def test_an_address_let_through_is_public_by_every_measure(address: IPv4Address | IPv6Address) -> None:
    reason = refusal(address)
    if reason is None:
        plain = address if address.version == 4 else _inner_ipv4(IPv6Address(address)) or address
        assert plain.is_global and not plain.is_multicast and not plain.is_private
    else:
        assert reason.startswith(("a ", "an ", "not "))


def _inner_ipv4(address: IPv6Address) -> IPv4Address | None:
    if address.ipv4_mapped or address.sixtofour:
        return address.ipv4_mapped or address.sixtofour
    if address in IPv6Network("64:ff9b::/96"):
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


@given(st.integers(0, 2**32 - 1), st.sampled_from(["decimal", "hex", "octal"]))
def test_numeric_spellings_are_judged_by_what_they_resolve_to(number: int, spelling: str) -> None:
    address = IPv4Address(number)
    octets = str(address).split(".")
    host = {
        "decimal": str(number),
        "hex": hex(number),
        "octal": ".".join(f"0{int(part):o}" for part in octets),
    }[spelling]
    problem = check_feed_url(f"http://{host}/feed.xml", allow_private=False)
    # The URL parser itself rejects dotted spellings with leading zeros when each part has at most three
    # digits ("012.00.00.01"); every other spelling reaches the resolver and is judged by its answer.
    unparsed = problem is not None and "is not a feed address" in problem
    if refusal(address) is not None:
        assert problem is not None
        assert unparsed or (problem.startswith("refused: ") and f"resolves to {address}," in problem)
    else:
        assert problem is None or (spelling == "octal" and unparsed)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("javascript:alert(1)", "is not a feed address"),
        ("file:///etc/passwd", "is not a feed address"),
        ("gopher://127.0.0.1:70/", "is not a feed address"),
        ("http://", "is not a feed address"),
        ("http://[::1/", "is not a feed address"),
        ("http://127.0.0.1:8080/feed", "refused: 127.0.0.1 is a loopback address"),
        ("https://[::ffff:10.0.0.1]/feed", "refused: ::ffff:10.0.0.1 is an IPv4-mapped form of 10.0.0.1"),
    ],
)
def test_adding_a_feed_checks_scheme_and_address(url: str, expected: str) -> None:
    problem = check_feed_url(url, allow_private=False)
    assert problem is not None and expected in problem and "\n" not in problem
    if problem.startswith("refused"):
        assert problem.endswith("(set feeds.allow_private_networks on a closed network)")
        assert check_feed_url(url, allow_private=True) is None


def test_public_addresses_and_unresolvable_names_can_be_added() -> None:
    assert check_feed_url(f"https://{PUBLIC}/feed.xml", allow_private=False) is None
    assert check_feed_url("https://[2606:4700::1111]/feed.xml", allow_private=False) is None
    # Not resolvable now (offline, a typo, a host not yet up): checked again at every connection.
    assert check_feed_url("https://feeds.invalid/rss", allow_private=False) is None
    assert ip_address(PUBLIC).is_global

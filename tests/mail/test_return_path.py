"""VERP return paths: each names its delivery, cannot be forged, and survives case changes and key rotation."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from digest.mail.return_path import ReturnPath

PATH = ReturnPath("bounces@bounce.example.org", "digest@example.org", ["old-key", "new-key"])


@given(st.integers(min_value=1, max_value=2**63))
def test_every_delivery_id_comes_back(delivery_id: int) -> None:
    address = PATH.for_delivery(delivery_id)
    assert address.startswith("bounces+d") and address.endswith("@bounce.example.org")
    assert len(address.partition("@")[0]) <= 64  # the longest local part SMTP allows
    assert PATH.delivery_of(address) == delivery_id
    assert PATH.delivery_of(address.upper()) == delivery_id  # a server that changed the case


@given(st.integers(min_value=1, max_value=10**9), st.integers(min_value=0, max_value=15))
def test_an_altered_tag_or_number_is_refused(delivery_id: int, position: int) -> None:
    address = PATH.for_delivery(delivery_id)
    local, _, domain = address.partition("@")
    tag = local.rpartition("-")[2]
    flipped = tag[:position] + ("0" if tag[position] != "0" else "1") + tag[position + 1 :]
    assert PATH.delivery_of(f"{local.rpartition('-')[0]}-{flipped}@{domain}") is None
    other = PATH.for_delivery(delivery_id + 1).partition("-")[0]
    assert PATH.delivery_of(f"{other}-{tag}@{domain}") is None  # another delivery's number, this one's tag


def test_a_key_rotation_keeps_old_addresses_working_and_foreign_keys_fail() -> None:
    before = ReturnPath("bounces@bounce.example.org", "x@example.org", ["old-key"]).for_delivery(42)
    assert PATH.delivery_of(before) == 42
    foreign = ReturnPath("bounces@bounce.example.org", "x@example.org", ["someone-else"]).for_delivery(42)
    assert PATH.delivery_of(foreign) is None
    assert PATH.delivery_of("bounces@bounce.example.org") is None


def test_without_a_bounce_address_the_sender_is_the_from_address() -> None:
    plain = ReturnPath(None, "digest@example.org", ["key"])
    assert not plain.enabled and plain.for_delivery(7) == "digest@example.org"

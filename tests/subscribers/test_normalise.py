"""Addresses as stored: the quick path for plain addresses must agree with the full validation."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import Engine

from digest.db.engine import session_scope
from digest.subscribers import store
from digest.subscribers.privacy import InvalidEmail, address_hash, address_hasher, normalise_email


def full(text: str) -> str:
    """What normalise_email answered before it had a quick path."""
    result = validate_email(text.strip(), check_deliverability=False)
    return f"{result.local_part.lower()}@{result.ascii_domain.lower()}"


LOCAL = st.text(alphabet="abcXYZ019.+-_'!#~\"@ é", min_size=0, max_size=70)
DOMAIN = st.one_of(
    st.sampled_from(["example.org", "EXAMPLE.org", "bücher.de", "mail.example.co.uk", "localhost", "a.test"]),
    st.text(alphabet="abz09-.é_", min_size=0, max_size=70),
    st.just("x" * 63 + "." + "y" * 63 + "." + "z" * 63 + ".org"),
)


@given(LOCAL, DOMAIN)
@example("ann", "EXAMPLE.org")
@example("a" * 64, "x" * 63 + "." + "y" * 63 + "." + "z" * 63 + ".org")  # too long together
@example("a..b", "example.org")
@example(".a", "example.org")
@example("a@b", "example.org")
def test_the_quick_path_agrees_with_email_validator(local: str, domain: str) -> None:
    text = f"{local}@{domain}"
    try:
        expected = full(text)
    except EmailNotValidError:
        if len(text.strip()) <= 254 and text.strip():
            with pytest.raises(InvalidEmail):
                normalise_email(text)
        return
    if len(text.strip()) <= 254:
        assert normalise_email(text) == expected


def test_errors_name_what_is_wrong() -> None:
    with pytest.raises(InvalidEmail, match="It should have a period"):
        normalise_email("ann@localhost")
    with pytest.raises(InvalidEmail, match="must have an @-sign"):
        normalise_email("ann.example.org")
    assert normalise_email("  Ann.Lee+news@Bücher.DE ") == "ann.lee+news@xn--bcher-kva.de"


def test_suppression_hashes_stay_those_stored_by_earlier_versions(engine: Engine) -> None:
    with session_scope(engine) as s:
        salt = store.installation_secret(s, "suppression_salt")
        expected = hmac.new(salt.encode(), b"ann@example.org", hashlib.sha256).hexdigest()
        assert address_hash(s, "ann@example.org") == expected
        assert address_hasher(s)("ann@example.org") == expected

"""Addresses as stored and compared, and the salted hash kept of suppressed ones.

Without the ORM or a database, so the light commands (``subscribers export``) and the import's row
checks use it as they are.
"""

from __future__ import annotations

import functools
import hmac

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import DOT_ATOM_TEXT, LOCAL_PART_MAX_LENGTH

MAX_EMAIL_LENGTH = 254


class InvalidEmail(ValueError):
    """Not an address mail can be sent to; the message says what is wrong with it."""


def normalise_email(raw: str) -> str:
    """The address as stored and compared: validated, domain in IDNA form, all lower case."""
    text = (raw or "").strip()
    if not text:
        raise InvalidEmail("an email address is required")
    if len(text) > MAX_EMAIL_LENGTH:
        raise InvalidEmail(f"an email address is at most {MAX_EMAIL_LENGTH} characters")
    # Most of email_validator's time goes to the domain, and a list of a million people has far fewer
    # domains: a plain ASCII local part (its own dot-atom pattern) with a domain it already accepted
    # needs no second look. Anything else, and every error, takes the full validation.
    local, _, domain = text.rpartition("@")
    if len(local) <= LOCAL_PART_MAX_LENGTH and DOT_ATOM_TEXT.match(local):
        ascii_domain = _accepted_domain(domain)
        if ascii_domain is not None and len(local) + 1 + len(ascii_domain) <= MAX_EMAIL_LENGTH:
            return f"{local.lower()}@{ascii_domain}"
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(f"'{text}' is not a valid email address: {exc}") from None
    # Mail providers treat the local part without regard to case; one person, one row.
    return f"{result.local_part.lower()}@{result.ascii_domain.lower()}"


@functools.lru_cache(maxsize=65536)
def _accepted_domain(domain: str) -> str | None:
    """The domain in lower-case IDNA form if email_validator accepts it in an address, else None."""
    try:
        return validate_email(f"a@{domain}", check_deliverability=False).ascii_domain.lower()
    except EmailNotValidError:
        return None


def salted_hash(salt: bytes, email: str) -> str:
    """The hash kept of an unsubscribed or erased address; the salt is the installation's."""
    return hmac.digest(salt, email.encode(), "sha256").hex()

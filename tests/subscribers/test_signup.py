"""Sign-up decisions on a real database: no enumeration, no list-bombing, consent recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from digest.config import PrivacySettings, Settings, SignupSettings
from digest.db.engine import session_scope
from digest.subscribers import signup, store
from digest.subscribers.privacy import InvalidEmail, is_suppressed, normalise_email

TOPICS = ("ai-misuse", "child-protection", "deepfakes")
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SETTINGS = Settings(signup=SignupSettings(resend_window_minutes=60, per_address_per_hour=3, per_client_per_hour=5))


def request(
    engine: Engine,
    email: str,
    *,
    at: datetime = NOW,
    ip: str | None = "192.0.2.1",
    settings: Settings = SETTINGS,
    topics: tuple[str, ...] = ("deepfakes",),
) -> str:
    with session_scope(engine) as s:
        outcome = signup.request_subscription(
            s, settings, email, topics, "daily", TOPICS, at, signup.Client(ip=ip, user_agent="Test/1.0")
        )
        return outcome.mail


def subscriber(engine: Engine, email: str) -> store.Subscriber:  # type: ignore[name-defined]
    with session_scope(engine) as s:
        found = store.by_email(s, email)
        assert found is not None
        found.topic_slugs  # noqa: B018 - load before the session closes
        return found


def test_new_pending_and_confirmed_addresses_get_the_right_mail(engine: Engine) -> None:
    assert request(engine, "Reader@Example.ORG") == "confirm"
    assert subscriber(engine, "reader@example.org").status == "pending"
    # Again within the window: nothing more is sent, and the answer page is the same.
    assert request(engine, "reader@example.org", at=NOW + timedelta(minutes=10)) == "none"
    assert request(engine, "reader@example.org", at=NOW + timedelta(minutes=61)) == "confirm"
    with session_scope(engine) as s:
        found = store.by_email(s, "reader@example.org")
        assert found is not None and signup.confirm(s, SETTINGS, found, NOW + timedelta(minutes=62))
    assert request(engine, "reader@example.org", at=NOW + timedelta(hours=3)) == "reminder"
    assert subscriber(engine, "reader@example.org").topic_slugs == ["deepfakes"]


def test_a_confirmed_subscription_cannot_be_changed_by_the_public_form(engine: Engine) -> None:
    request(engine, "a@example.org")
    with session_scope(engine) as s:
        found = store.by_email(s, "a@example.org")
        assert found is not None
        signup.confirm(s, SETTINGS, found, NOW)
    request(engine, "a@example.org", at=NOW + timedelta(hours=2), topics=("ai-misuse", "child-protection"))
    assert subscriber(engine, "a@example.org").topic_slugs == ["deepfakes"]


def test_list_bombing_is_throttled_per_address_and_per_client(engine: Engine) -> None:
    outcomes = [request(engine, "victim@example.org", at=NOW + timedelta(minutes=61 * i)) for i in range(3)]
    assert outcomes == ["confirm", "confirm", "confirm"]
    fresh = Settings(signup=SignupSettings(resend_window_minutes=0, per_address_per_hour=3, per_client_per_hour=5))
    sent = [request(engine, f"other{i}@example.org", settings=fresh, ip="198.51.100.7") for i in range(8)]
    assert sent.count("confirm") == 5 and sent[5:] == ["none", "none", "none"]
    assert request(engine, "other9@example.org", settings=fresh, ip="198.51.100.8") == "confirm"


def test_unsubscribing_suppresses_and_confirming_again_lifts_it(engine: Engine) -> None:
    request(engine, "b@example.org")
    with session_scope(engine) as s:
        found = store.by_email(s, "b@example.org")
        assert found is not None
        signup.confirm(s, SETTINGS, found, NOW)
        assert signup.unsubscribe(s, found, "one-click", NOW)
        assert not signup.unsubscribe(s, found, "one-click", NOW)
        assert is_suppressed(s, "b@example.org")
    assert request(engine, "b@example.org", at=NOW + timedelta(days=1)) == "confirm"
    with session_scope(engine) as s:
        found = store.by_email(s, "b@example.org")
        assert found is not None
        signup.confirm(s, SETTINGS, found, NOW + timedelta(days=1))
        assert not is_suppressed(s, "b@example.org")
        actions = [e.action for e in store.consents(s, found)]
    assert actions == ["requested", "confirmed", "unsubscribed", "requested", "confirmed"]


def test_client_details_are_stored_only_when_configured(engine: Engine) -> None:
    request(engine, "c@example.org")
    storing = Settings(privacy=PrivacySettings(store_client_info=True))
    request(engine, "d@example.org", settings=storing)
    with session_scope(engine) as s:
        plain = store.consents(s, store.by_email(s, "c@example.org"))[0]  # type: ignore[arg-type]
        kept = store.consents(s, store.by_email(s, "d@example.org"))[0]  # type: ignore[arg-type]
    assert (plain.client_ip, plain.user_agent) == (None, None)
    assert (kept.client_ip, kept.user_agent) == ("192.0.2.1", "Test/1.0")
    assert plain.policy_version == SETTINGS.privacy.policy_version
    assert plain.detail == "topics: deepfakes; frequency: daily"


@pytest.mark.parametrize(
    ("topics", "frequency", "message"),
    [
        ((), "daily", "choose at least one topic"),
        (("crypto",), "daily", "unknown topic crypto"),
        (("deepfakes",), "hourly", "frequency must be daily or weekly"),
    ],
)
def test_choices_are_checked(topics: tuple[str, ...], frequency: str, message: str) -> None:
    with pytest.raises(signup.InvalidChoice, match=message):
        signup.check_choice(topics, frequency, TOPICS)


@pytest.mark.parametrize("raw", ["", "no-at-sign", "a@b", "a@@example.org", "x" * 300 + "@example.org"])
def test_bad_addresses_are_refused_with_a_reason(raw: str) -> None:
    with pytest.raises(InvalidEmail):
        normalise_email(raw)


def test_addresses_are_normalised() -> None:
    assert normalise_email("  Jane.Doe@Example.ORG ") == "jane.doe@example.org"
    assert normalise_email("user@bücher.example") == "user@xn--bcher-kva.example"

"""Settings made in code are checked like loaded ones, and text from the environment becomes typed values."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from digest.config import ApiSettings, ConfigError, DeliverySettings, FeedSettings, Settings, load_settings
from digest.config.fields import InvalidSettings


def empty(tmp_path: Path) -> Path:
    path = tmp_path / "digest.toml"
    path.write_text("")
    return path


def test_text_from_the_environment_becomes_the_declared_type(tmp_path: Path) -> None:
    env = {
        "DIGEST_FEEDS__TIMEOUT_SECONDS": "2.5",
        "DIGEST_FEEDS__ALLOW_PRIVATE_NETWORKS": "Yes",
        "DIGEST_DELIVERY__CONNECTIONS": " 8 ",
        "DIGEST_BOUNCES__SES_TOPIC_ARNS": "arn:a, arn:b,",
        "DIGEST_PRIVACY__STORE_CLIENT_INFO": "0",
    }
    settings = load_settings(env, empty(tmp_path))
    assert settings.feeds.timeout_seconds == 2.5 and settings.feeds.allow_private_networks is True
    assert settings.delivery.connections == 8 and settings.privacy.store_client_info is False
    assert settings.bounces.ses_topic_arns == ["arn:a", "arn:b"]


def test_every_mistake_is_reported_at_once_in_the_order_of_the_settings(tmp_path: Path) -> None:
    path = tmp_path / "digest.toml"
    path.write_text('mail_url = "outbox/"\n[feeds]\nconcurrency = 0\nmax_bytes = 1.5\n[digest]\nsend_time = "7am"\n')
    with pytest.raises(ConfigError) as info:
        load_settings({"DIGEST_LOGGING__ADDRESSES": "perhaps", "DIGEST_NOPE": "1"}, path)
    lines = [line.strip() for line in str(info.value).splitlines()]
    assert lines[0] == "invalid configuration:"
    assert [line.split(": setting ")[-1].split(":")[0] for line in lines[1:]] == [
        "'mail_url'",
        "'feeds.concurrency'",
        "'feeds.max_bytes'",
        "'digest.send_time'",
        "'logging.addresses'",
        "environment variable DIGEST_NOPE",
    ]
    assert "input should be greater than or equal to 1 (got 0)" in lines[2]
    assert "got a number with a fractional part (got 1.5)" in lines[3]
    assert "input should be a valid boolean" in lines[5] and "'perhaps'" in lines[5]
    assert lines[6].endswith("unknown setting 'nope'")


def test_settings_made_in_code_are_checked_and_normalised() -> None:
    assert Settings(database_url="postgres://u@db/digest").database_url == "postgresql+psycopg://u@db/digest"
    with pytest.raises(InvalidSettings, match="concurrency: input should be less than or equal to 200"):
        FeedSettings(concurrency=500)
    with pytest.raises(InvalidSettings, match="is not an origin"):
        ApiSettings(cors_origins=["example.org/page"])
    settings = Settings(delivery=DeliverySettings(connections=2))
    changed = settings.model_copy(update={"base_url": "https://news.example"})
    assert (changed.base_url, changed.delivery.connections, settings.base_url) == (
        "https://news.example",
        2,
        "http://localhost:8000",
    )
    with pytest.raises(InvalidSettings, match="unsupported mail URL"):
        settings.model_copy(update={"mail_url": "imap://mail.example"})


def test_settings_cannot_be_changed_in_place_and_travel_to_other_processes() -> None:
    settings = Settings(secret_key="k")
    with pytest.raises(AttributeError):
        settings.secret_key = "other"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(settings)) == settings  # sender processes get them this way

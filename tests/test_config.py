"""Settings: defaults < config file < environment, and clear messages for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.config import ConfigError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "digest.toml"
    path.write_text(text)
    return path


def test_defaults_apply_without_a_file(tmp_path: Path) -> None:
    settings = load_settings({}, write(tmp_path, ""))
    assert settings.database_url.startswith("sqlite:///")
    assert settings.feeds.default_interval_minutes == 60


def test_file_overrides_defaults_and_environment_overrides_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'database_url = "sqlite:///from-file.db"\n[feeds]\nconcurrency = 3\ntimeout_seconds = 7\n')
    env = {"DIGEST_DATABASE_URL": "sqlite:///from-env.db", "DIGEST_FEEDS__CONCURRENCY": "12"}
    settings = load_settings(env, path)
    assert settings.database_url == "sqlite:///from-env.db"
    assert settings.feeds.concurrency == 12
    assert settings.feeds.timeout_seconds == 7


def test_digest_config_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[feeds]\nmax_redirects = 2\n")
    assert load_settings({"DIGEST_CONFIG": str(path)}).feeds.max_redirects == 2


def test_a_missing_named_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml: config file not found"):
        load_settings({"DIGEST_CONFIG": str(tmp_path / "nope.toml")})


def test_wrong_type_names_file_key_and_expectation(tmp_path: Path) -> None:
    path = write(tmp_path, '[feeds]\nconcurrency = "lots"\n')
    with pytest.raises(ConfigError) as info:
        load_settings({}, path)
    message = str(info.value)
    assert str(path) in message
    assert "feeds.concurrency" in message
    assert "valid integer" in message
    assert "'lots'" in message


def test_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"environment variable DIGEST_FEEDS__MAX_BYTES.*feeds\.max_bytes"):
        load_settings({"DIGEST_FEEDS__MAX_BYTES": "-5"}, write(tmp_path, ""))


def test_unknown_keys_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown setting 'feeds\.concurency'"):
        load_settings({}, write(tmp_path, "[feeds]\nconcurency = 3\n"))


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[feeds\n")
    with pytest.raises(ConfigError, match=f"{path}: not valid TOML"):
        load_settings({}, path)


def test_user_agent_names_the_service_and_where_to_reach_it(tmp_path: Path) -> None:
    settings = load_settings({"DIGEST_BASE_URL": "https://news.example"}, write(tmp_path, ""))
    assert settings.user_agent("1.2") == "digest/1.2 (newsletter digest feed fetcher; +https://news.example)"


def test_the_shipped_config_file_is_valid() -> None:
    shipped = Path(__file__).resolve().parents[1] / "config" / "digest.toml"
    settings = load_settings({}, shipped)
    assert settings.mail_url == "file://var/outbox"
    assert settings.feeds.concurrency == 10 and settings.signup.default_frequency == "weekly"


def test_a_wrong_time_zone_suggests_the_right_spelling(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"DIGEST_DIGEST__TIMEZONE": "europe/london"}, write(tmp_path, ""))
    message = str(info.value)
    assert "environment variable DIGEST_DIGEST__TIMEZONE: setting 'digest.timezone'" in message
    assert "unknown time zone 'europe/london' (did you mean 'Europe/London'?)" in message
    with pytest.raises(ConfigError, match=r"unknown time zone 'Mars/Olympus' \(use a name like Europe/London\)"):
        load_settings({}, write(tmp_path, '[digest]\ntimezone = "Mars/Olympus"\n'))


def test_an_unknown_section_from_the_environment_names_the_variable(tmp_path: Path) -> None:
    path = write(tmp_path, "[feeds]\nconcurrency = 3\n")
    with pytest.raises(ConfigError) as info:
        load_settings({"DIGEST_DATABASE__URL": "sqlite:///x.db", "DIGEST_FEED__CONCURRENCY": "2"}, path)
    message = str(info.value)
    assert "environment variable DIGEST_DATABASE__URL: unknown setting 'database'" in message
    assert "environment variable DIGEST_FEED__CONCURRENCY: unknown setting 'feed'" in message
    assert str(path) not in message


@pytest.mark.parametrize("url", ["mysql://u@localhost/db", "mssql+pyodbc://x", "sqlite", "postgresql+psycopg2://h/d"])
def test_only_sqlite_and_postgresql_databases_are_accepted(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match=r"DIGEST_DATABASE_URL: setting 'database_url': .*sqlite:///"):
        load_settings({"DIGEST_DATABASE_URL": url}, write(tmp_path, ""))


def test_a_plain_postgresql_url_uses_the_shipped_driver(tmp_path: Path) -> None:
    settings = load_settings({"DIGEST_DATABASE_URL": "postgresql://u:p@db:5432/digest"}, write(tmp_path, ""))
    assert settings.database_url == "postgresql+psycopg://u:p@db:5432/digest"


@pytest.mark.parametrize("url", ["smtp://", "imap://mail.example", "smtp://mail.example:twentyfive", "outbox/"])
def test_unusable_mail_urls_are_a_configuration_error(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match=r"environment variable DIGEST_MAIL_URL: setting 'mail_url'"):
        load_settings({"DIGEST_MAIL_URL": url}, write(tmp_path, ""))


def test_logging_keeps_addresses_out_unless_asked(tmp_path: Path) -> None:
    settings = load_settings({}, write(tmp_path, ""))
    assert settings.logging.addresses is False and settings.logging.format == "text"
    asked = load_settings({"DIGEST_LOGGING__ADDRESSES": "true", "DIGEST_LOGGING__FORMAT": "json"}, write(tmp_path, ""))
    assert asked.logging.addresses is True and asked.logging.format == "json"
    with pytest.raises(ConfigError, match=r"setting 'logging.format': input should be 'text' or 'json'"):
        load_settings({}, write(tmp_path, '[logging]\nformat = "xml"\n'))


def test_cors_origins_from_the_environment_and_a_bad_one_named(tmp_path: Path) -> None:
    missing = write(tmp_path, "")
    settings = load_settings({"DIGEST_API__CORS_ORIGINS": "https://www.outlet.example, http://localhost:3000"}, missing)
    assert settings.api.cors_origins == ["https://www.outlet.example", "http://localhost:3000"]
    assert load_settings({}, missing).api.cors_origins == [] and not load_settings({}, missing).metrics.enabled
    with pytest.raises(ConfigError, match=r"DIGEST_API__CORS_ORIGINS: setting 'api.cors_origins'.*is not an origin"):
        load_settings({"DIGEST_API__CORS_ORIGINS": "www.outlet.example/signup"}, missing)

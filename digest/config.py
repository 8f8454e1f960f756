"""Typed settings for every part of digest.

Precedence, lowest first: the defaults written here, the TOML file (``DIGEST_CONFIG`` or
``config/digest.toml`` in the working directory), then environment variables. ``DIGEST_KEY`` sets a
top-level key (``DIGEST_DATABASE_URL``), ``DIGEST_SECTION__KEY`` a key inside a section
(``DIGEST_FEEDS__CONCURRENCY``). Settings are loaded once, at the edge (CLI, app factory), and passed
down; nothing reads them from a global.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from digest.failures import OperatorError

ENV_PREFIX = "DIGEST_"
DEFAULT_CONFIG_PATH = Path("config/digest.toml")


class ConfigError(OperatorError):
    """A setting is missing, unknown or of the wrong kind; the message names where and what."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FeedSettings(_Section):
    default_interval_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    max_backoff_minutes: int = Field(default=24 * 60, ge=1)
    concurrency: int = Field(default=10, ge=1, le=200)
    connect_timeout_seconds: float = Field(default=10.0, gt=0)
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_redirects: int = Field(default=5, ge=0, le=20)
    max_retry_after_minutes: int = Field(default=24 * 60, ge=1)
    summary_chars: int = Field(default=400, ge=40, le=5000)
    title_chars: int = Field(default=300, ge=20, le=2000)
    user_agent: str | None = None
    # Processes that parse feeds in parallel during a poll; 0 means one per CPU core.
    parse_workers: int = Field(default=0, ge=0, le=64)
    # At most this many feeds stored in one transaction during a poll, when several are waiting.
    store_batch_feeds: int = Field(default=10, ge=1, le=100)
    # Off: feeds on loopback, private, link-local and other non-public addresses are refused, when
    # added and at every connection. On only for a closed deployment, tests and the demo.
    allow_private_networks: bool = False


class PrivacySettings(_Section):
    # Bump when the policy changes: readers who agreed to an older version see the new terms on their
    # next visit.
    policy_version: str = "2026-11-01"
    policy_url: str | None = None  # default: the service's own /privacy page
    # Whether readers who agreed to an older version keep getting mail until they accept the new one.
    send_before_new_policy_accepted: bool = True
    # Off by default: no IP address or user agent is stored with consent records.
    store_client_info: bool = False
    confirm_link_hours: int = Field(default=7 * 24, ge=1, le=90 * 24)


class SignupSettings(_Section):
    default_frequency: Literal["daily", "weekly"] = "weekly"
    # No second confirmation (or "already subscribed") mail to one address within this window.
    resend_window_minutes: int = Field(default=60, ge=0)
    # Sign-up attempts allowed per address and per client (hashed) in an hour; more get the same answer
    # and no mail.
    per_address_per_hour: int = Field(default=5, ge=1)
    per_client_per_hour: int = Field(default=20, ge=1)


class MailSettings(_Section):
    from_address: str = "digest@localhost"
    from_name: str = "Cybersecurity Law Digest"
    reply_to: str | None = None
    # The sender's postal or contact line, shown in every mail's footer.
    contact_line: str = "Cybersecurity Law Digest, 1 Example Street, Example City"
    list_id: str = "digest.localhost"
    # The envelope sender of digests, as bounces+<signed delivery key>@<domain> (VERP), so bounces can be
    # tied to their delivery: e.g. "bounces@bounce.example.org". Unset: from_address, no VERP.
    bounce_address: str | None = None


class DigestSettings(_Section):
    # Editions follow this time zone: a day is a local day, a week an ISO week.
    timezone: str = "UTC"
    send_time: str = Field(default="07:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")  # when the scheduler sends
    max_stories_per_topic: int = Field(default=10, ge=1, le=100)
    max_age_days: int = Field(default=8, ge=1, le=60)  # stories first seen longer ago are never sent
    send_empty: bool = False  # nothing new: send a short "no new stories" mail instead of nothing
    # "auto": the send job sends each edition as planned; "approve": it plans and waits for an editor.
    review: Literal["auto", "approve"] = "auto"
    # With review = "approve": send an unapproved edition anyway at this local time ("10:00"); unset: never.
    review_deadline: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            # Zone names are case-sensitive: "europe/london" is a likely slip for "Europe/London".
            same = sorted(zone for zone in available_timezones() if zone.lower() == value.lower())
            hint = f"did you mean '{same[0]}'?" if same else "use a name like Europe/London"
            raise ValueError(f"unknown time zone '{value}' ({hint})") from None
        return value


class DeliverySettings(_Section):
    connections: int = Field(default=4, ge=1, le=64)  # SMTP connections used in parallel, in all processes
    # Processes that build and send digests (0: one per core); they share the connections above.
    sender_processes: int = Field(default=0, ge=0, le=64)
    messages_per_second: float = Field(default=0, ge=0)  # 0: as fast as the server takes them
    max_attempts: int = Field(default=5, ge=1)
    retry_minutes: int = Field(default=5, ge=1)  # first retry; each later one waits twice as long
    claim_timeout_minutes: int = Field(default=10, ge=1)  # a "sending" row older than this is retried
    smtp_timeout_seconds: float = Field(default=30, gt=0, le=600)  # a silent SMTP server: give up, retry later
    max_failures: int = Field(default=3, ge=1)  # permanent failures in a row before an address is skipped


class ArchiveSettings(_Section):
    # The public web copy of every edition sent (/archive/), one Atom feed per topic, and the
    # "View in the browser" link in every mail. Off: no archive pages, feeds or links.
    enabled: bool = True
    editions: int = Field(default=60, ge=1, le=1000)  # editions listed on /archive/, newest first
    feed_entries: int = Field(default=20, ge=1, le=200)  # editions in each topic's Atom feed


class BounceSettings(_Section):
    keep_days: int = Field(default=30, ge=1, le=365)  # how long the original of a bounce is kept for editors
    soft_limit: int = Field(default=3, ge=1)  # soft bounces within window_days before an address is suppressed
    window_days: int = Field(default=14, ge=1, le=365)
    # imap://user:password@host:port or imaps://... : a mailbox bounces are delivered to (unset: none).
    imap_url: str | None = None
    imap_folder: str = "INBOX"
    # "tls": TLS from the start (imaps, port 993); "starttls": upgrade a plain connection (refused if the
    # server cannot); "none": plain text, only for a server on this machine.
    imap_tls: Literal["tls", "starttls", "none"] = "tls"
    # A PEM file of certificate authorities to trust for the mailbox (a private CA); unset: the system's.
    imap_ca_file: str | None = None
    # What happens to a processed message: moved to imap_done_folder, or deleted.
    imap_after: Literal["move", "delete"] = "move"
    imap_done_folder: str = "digest-processed"
    fetch_minutes: int = Field(default=5, ge=1, le=24 * 60)  # how often the scheduler fetches (imap_url set)
    # Hosted senders' webhooks (unset: that webhook answers 404).
    ses_topic_arns: list[str] = Field(default_factory=list)  # the SNS topics whose messages are accepted
    # Certificates of SNS signatures are fetched only from https://sns.<region>.amazonaws.com/...;
    # URLs starting with one of these are trusted too (a test certificate authority on loopback).
    sns_extra_certificate_urls: list[str] = Field(default_factory=list)
    postmark_credentials: str | None = None  # "user:password" the Postmark webhook sends (basic auth)
    mailgun_signing_key: str | None = None  # the HTTP webhook signing key of the Mailgun account

    @field_validator("ses_topic_arns", "sns_extra_certificate_urls", mode="before")
    @classmethod
    def _split_lists(cls, value: Any) -> Any:
        # From the environment a list comes as one string: items separated by commas.
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value


class LoggingSettings(_Section):
    # Off by default: an e-mail address in a log line is written as "…@example.org".
    addresses: bool = False
    # "text": one line per event for people; "json": one JSON object per line for log collectors.
    format: Literal["text", "json"] = "text"


class ApiSettings(_Section):
    # Origins (scheme://host[:port]) whose pages may call /api from a browser; empty: CORS stays off.
    cors_origins: list[str] = Field(default_factory=list)
    # Requests one token may make per minute (in each web process); more get 429 with Retry-After.
    rate_limit_per_minute: int = Field(default=120, ge=1, le=100_000)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):  # from the environment: origins separated by commas
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            parts = urlsplit(origin)
            if origin != "*" and (parts.scheme not in ("http", "https") or not parts.netloc or parts.path):
                raise ValueError(f"'{origin}' is not an origin: use scheme://host[:port], like https://example.org")
        return value


class MetricsSettings(_Section):
    # Off: /metrics answers 404. On: Prometheus text format, read from the database at each scrape.
    enabled: bool = False
    # Set: scrapers must send "Authorization: Bearer <token>".
    token: str | None = None


SQLITE_OR_POSTGRES = "use sqlite:///path/to/file.db or postgresql+psycopg://user:password@host:5432/dbname"
MAIL_URLS = "use file:///path/to/outbox, smtp://host:port or smtps://host:port"


class Settings(_Section):
    database_url: str = "sqlite:///var/digest.db"
    base_url: str = "http://localhost:8000"
    # The editors' topics and tagging rules (see the file's own comments).
    topics_file: str = "config/topics.toml"
    # file:///path/to/outbox (one .eml per message) or smtp://user:password@host:port (smtps:// for TLS)
    mail_url: str = "file://var/outbox"
    # Signs every link in mail. Unset: a random key made for this installation and kept in the database.
    secret_key: str | None = None
    # Keys used before the current one: links signed with them keep working (rotation).
    previous_secret_keys: list[str] = Field(default_factory=list)
    feeds: FeedSettings = Field(default_factory=FeedSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    signup: SignupSettings = Field(default_factory=SignupSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    archive: ArchiveSettings = Field(default_factory=ArchiveSettings)
    bounces: BounceSettings = Field(default_factory=BounceSettings)

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        scheme, sep, rest = value.partition("://")
        if not sep:
            raise ValueError(f"'{value}' is not a database URL: {SQLITE_OR_POSTGRES}")
        backend, _, driver = scheme.lower().partition("+")
        if backend == "sqlite" and driver in ("", "pysqlite"):
            return value
        # psycopg (version 3) is the PostgreSQL driver shipped with digest; a bare postgresql:// would
        # make SQLAlchemy look for psycopg2, which is not installed.
        if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
            return f"postgresql+psycopg://{rest}"
        raise ValueError(f"unsupported database '{scheme}://': {SQLITE_OR_POSTGRES}")

    @field_validator("mail_url")
    @classmethod
    def _supported_mail(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme == "file" and (parts.netloc or parts.path):
            return value
        if parts.scheme in ("smtp", "smtps") and parts.hostname:
            try:
                _ = parts.port  # a port that is not a number raises here
            except ValueError:
                raise ValueError(f"'{value}' has a port that is not a number") from None
            return value
        raise ValueError(f"unsupported mail URL '{value}': {MAIL_URLS}")

    @field_validator("previous_secret_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        # From the environment the list comes as one string: keys separated by commas.
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @property
    def policy_url(self) -> str:
        return self.privacy.policy_url or f"{self.base_url.rstrip('/')}/privacy"

    def user_agent(self, version: str) -> str:
        """The User-Agent every feed request carries, so publishers know who polls them."""
        if self.feeds.user_agent:
            return self.feeds.user_agent
        return f"digest/{version} (newsletter digest feed fetcher; +{self.base_url})"


def load_settings(environ: Mapping[str, str] | None = None, path: Path | None = None) -> Settings:
    """Merge defaults, the TOML file and the environment into one validated ``Settings``."""
    env = os.environ if environ is None else environ
    if path is None:
        explicit = env.get(f"{ENV_PREFIX}CONFIG")
        path = Path(explicit) if explicit else DEFAULT_CONFIG_PATH
        required = bool(explicit)
    else:
        required = True

    data: dict[str, Any] = {}
    origin: dict[tuple[str, ...], str] = {}
    if path.exists():
        data = _read_toml(path)
        for key_path in _leaf_paths(data):
            origin[key_path] = str(path)
    elif required:
        raise ConfigError(f"{path}: config file not found (named by {ENV_PREFIX}CONFIG)")

    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name == f"{ENV_PREFIX}CONFIG":
            continue
        key_path = tuple(part.lower() for part in name[len(ENV_PREFIX) :].split("__"))
        if not all(key_path):
            raise ConfigError(f"environment variable {name}: empty key part in the name")
        _set_path(data, key_path, value, name)
        origin[key_path] = f"environment variable {name}"

    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, origin, path)) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None


def _leaf_paths(data: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []
    for key, value in data.items():
        if isinstance(value, Mapping):
            paths.extend(_leaf_paths(value, (*prefix, key)))
        paths.append((*prefix, key))
    return paths


def _set_path(data: dict[str, Any], key_path: tuple[str, ...], value: str, env_name: str) -> None:
    node = data
    for part in key_path[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"environment variable {env_name}: '{part}' is a value, not a section")
        node = child
    node[key_path[-1]] = value


def _describe(exc: ValidationError, origin: Mapping[tuple[str, ...], str], path: Path) -> str:
    lines = []
    for error in exc.errors():
        key_path = tuple(str(part) for part in error["loc"])
        where = _origin_of(key_path, origin, path)
        key = ".".join(key_path)
        if error["type"] == "extra_forbidden":
            lines.append(f"{where}: unknown setting '{key}'")
        elif error["type"] == "value_error":
            # Our own validators' messages already say what was given and what would do.
            lines.append(f"{where}: setting '{key}': {error['ctx']['error']}")
        else:
            message = error["msg"][:1].lower() + error["msg"][1:]
            lines.append(f"{where}: setting '{key}': {message} (got {error.get('input')!r})")
    if len(lines) == 1:
        return f"invalid configuration: {lines[0]}"
    return "invalid configuration:\n  " + "\n  ".join(lines)


def _origin_of(key_path: tuple[str, ...], origin: Mapping[tuple[str, ...], str], path: Path) -> str:
    """Where a wrong key came from: the file, or the environment variable that set it."""
    if key_path in origin:
        return origin[key_path]
    # An unknown section (DIGEST_DATABASE__URL makes a section "database"): whoever set keys below it.
    below = sorted({where for key, where in origin.items() if key[: len(key_path)] == key_path})
    if below:
        return " and ".join(below)
    for end in range(len(key_path) - 1, 0, -1):
        if key_path[:end] in origin:
            return origin[key_path[:end]]
    return str(path)

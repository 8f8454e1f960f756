"""The settings as a whole: the top-level keys (database, base URL, mail, keys) and every section."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from digest.config.fields import Section, setting
from digest.config.sections import (
    ApiSettings,
    ArchiveSettings,
    BounceSettings,
    DeliverySettings,
    DigestSettings,
    FeedSettings,
    LoggingSettings,
    MailSettings,
    MetricsSettings,
    PrivacySettings,
    SignupSettings,
)

SQLITE_OR_POSTGRES = "use sqlite:///path/to/file.db or postgresql+psycopg://user:password@host:5432/dbname"
MAIL_URLS = "use file:///path/to/outbox, smtp://host:port or smtps://host:port"


def supported_database(value: str) -> str:
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


def supported_mail(value: str) -> str:
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


@dataclass(frozen=True, kw_only=True)
class Settings(Section):
    database_url: str = setting("sqlite:///var/digest.db", check=supported_database)
    base_url: str = "http://localhost:8000"
    # The editors' topics and tagging rules (see the file's own comments).
    topics_file: str = "config/topics.toml"
    # The learned layer's weights beside the rules (`digest retag --learn` writes them); "" or a
    # missing file: the rules alone decide.
    learned_file: str = "config/learned.json"
    # file:///path/to/outbox (one .eml per message) or smtp://user:password@host:port (smtps:// for TLS)
    mail_url: str = setting("file://var/outbox", check=supported_mail)
    # Signs every link in mail. Unset: a random key made for this installation and kept in the database.
    secret_key: str | None = None
    # Keys used before the current one: links signed with them keep working (rotation).
    previous_secret_keys: list[str] = field(default_factory=list)
    feeds: FeedSettings = field(default_factory=FeedSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    signup: SignupSettings = field(default_factory=SignupSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    digest: DigestSettings = field(default_factory=DigestSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    archive: ArchiveSettings = field(default_factory=ArchiveSettings)
    bounces: BounceSettings = field(default_factory=BounceSettings)

    @property
    def policy_url(self) -> str:
        return self.privacy.policy_url or f"{self.base_url.rstrip('/')}/privacy"

    def user_agent(self, version: str) -> str:
        """The User-Agent every feed request carries, so publishers know who polls them."""
        if self.feeds.user_agent:
            return self.feeds.user_agent
        return f"digest/{version} (newsletter digest feed fetcher; +{self.base_url})"

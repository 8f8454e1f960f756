"""Typed settings for every part of digest.

Precedence, lowest first: the defaults written here, the TOML file (``DIGEST_CONFIG`` or
``config/digest.toml`` in the working directory), then environment variables. ``DIGEST_KEY`` sets a
top-level key (``DIGEST_DATABASE_URL``), ``DIGEST_SECTION__KEY`` a key inside a section
(``DIGEST_FEEDS__CONCURRENCY``). Settings are loaded once, at the edge (CLI, app factory), and passed
down; nothing reads them from a global.

The sections are in sections.py, the whole in settings.py, the loading in loading.py and the typed,
checked dataclasses they are made of in fields.py.
"""

from digest.config.loading import DEFAULT_CONFIG_PATH, ENV_PREFIX, ConfigError, load_settings
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
from digest.config.settings import MAIL_URLS, SQLITE_OR_POSTGRES, Settings

__all__ = [
    "DEFAULT_CONFIG_PATH", "ENV_PREFIX", "MAIL_URLS", "SQLITE_OR_POSTGRES", "ApiSettings", "ArchiveSettings",
    "BounceSettings", "ConfigError", "DeliverySettings", "DigestSettings", "FeedSettings", "LoggingSettings",
    "MailSettings", "MetricsSettings", "PrivacySettings", "Settings", "SignupSettings", "load_settings",
]  # fmt: skip

"""The sections of the settings, one per part of digest: feeds, privacy, sign-up, mail, digests,
delivery, archive, bounces, logging, the JSON API and metrics (``[feeds]`` in config/digest.toml,
``DIGEST_FEEDS__...`` in the environment)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from digest.config.fields import CHECK, Section, setting

CLOCK = r"^([01]\d|2[0-3]):[0-5]\d$"


@dataclass(frozen=True, kw_only=True)
class FeedSettings(Section):
    default_interval_minutes: int = setting(60, ge=1, le=7 * 24 * 60)
    max_backoff_minutes: int = setting(24 * 60, ge=1)
    concurrency: int = setting(10, ge=1, le=200)
    connect_timeout_seconds: float = setting(10.0, gt=0)
    timeout_seconds: float = setting(30.0, gt=0)
    max_bytes: int = setting(10 * 1024 * 1024, ge=1024)
    max_redirects: int = setting(5, ge=0, le=20)
    max_retry_after_minutes: int = setting(24 * 60, ge=1)
    summary_chars: int = setting(400, ge=40, le=5000)
    title_chars: int = setting(300, ge=20, le=2000)
    user_agent: str | None = None
    # Processes that parse feeds in parallel during a poll; 0 means one per CPU core.
    parse_workers: int = setting(0, ge=0, le=64)
    # Off: feeds on loopback, private, link-local and other non-public addresses are refused, when
    # added and at every connection. On only for a closed deployment, tests and the demo.
    allow_private_networks: bool = False


@dataclass(frozen=True, kw_only=True)
class PrivacySettings(Section):
    # Bump when the policy changes: readers who agreed to an older version see the new terms on their
    # next visit.
    policy_version: str = "2026-11-01"
    policy_url: str | None = None  # default: the service's own /privacy page
    # Whether readers who agreed to an older version keep getting mail until they accept the new one.
    send_before_new_policy_accepted: bool = True
    # Off by default: no IP address or user agent is stored with consent records.
    store_client_info: bool = False
    confirm_link_hours: int = setting(7 * 24, ge=1, le=90 * 24)


@dataclass(frozen=True, kw_only=True)
class SignupSettings(Section):
    default_frequency: Literal["daily", "weekly"] = "weekly"
    # No second confirmation (or "already subscribed") mail to one address within this window.
    resend_window_minutes: int = setting(60, ge=0)
    # Sign-up attempts allowed per address and per client (hashed) in an hour; more get the same answer
    # and no mail.
    per_address_per_hour: int = setting(5, ge=1)
    per_client_per_hour: int = setting(20, ge=1)


@dataclass(frozen=True, kw_only=True)
class MailSettings(Section):
    from_address: str = "digest@localhost"
    from_name: str = "Cybersecurity Law Digest"
    reply_to: str | None = None
    # The sender's postal or contact line, shown in every mail's footer.
    contact_line: str = "Cybersecurity Law Digest, 1 Example Street, Example City"
    list_id: str = "digest.localhost"
    # The envelope sender of digests, as bounces+<signed delivery key>@<domain> (VERP), so bounces can be
    # tied to their delivery: e.g. "bounces@bounce.example.org". Unset: from_address, no VERP.
    bounce_address: str | None = None


def known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        # Zone names are case-sensitive: "europe/london" is a likely slip for "Europe/London".
        same = sorted(zone for zone in available_timezones() if zone.lower() == value.lower())
        hint = f"did you mean '{same[0]}'?" if same else "use a name like Europe/London"
        raise ValueError(f"unknown time zone '{value}' ({hint})") from None
    return value


@dataclass(frozen=True, kw_only=True)
class DigestSettings(Section):
    # Editions follow this time zone: a day is a local day, a week an ISO week.
    timezone: str = setting("UTC", check=known_zone)
    send_time: str = setting("07:00", pattern=CLOCK)  # when the scheduler sends
    max_stories_per_topic: int = setting(10, ge=1, le=100)
    max_age_days: int = setting(8, ge=1, le=60)  # stories first seen longer ago are never sent
    send_empty: bool = False  # nothing new: send a short "no new stories" mail instead of nothing
    # "auto": the send job sends each edition as planned; "approve": it plans and waits for an editor.
    review: Literal["auto", "approve"] = "auto"
    # With review = "approve": send an unapproved edition anyway at this local time ("10:00"); unset: never.
    review_deadline: str | None = setting(None, pattern=CLOCK)


@dataclass(frozen=True, kw_only=True)
class DeliverySettings(Section):
    connections: int = setting(4, ge=1, le=64)  # SMTP connections used in parallel, in all processes
    # Processes that build and send digests (0: one per core); they share the connections above.
    sender_processes: int = setting(0, ge=0, le=64)
    messages_per_second: float = setting(0.0, ge=0)  # 0: as fast as the server takes them
    max_attempts: int = setting(5, ge=1)
    retry_minutes: int = setting(5, ge=1)  # first retry; each later one waits twice as long
    claim_timeout_minutes: int = setting(10, ge=1)  # a "sending" row older than this is retried
    smtp_timeout_seconds: float = setting(30.0, gt=0, le=600)  # a silent SMTP server: give up, retry later
    max_failures: int = setting(3, ge=1)  # permanent failures in a row before an address is skipped


@dataclass(frozen=True, kw_only=True)
class ArchiveSettings(Section):
    # The public web copy of every edition sent (/archive/), one Atom feed per topic, and the
    # "View in the browser" link in every mail. Off: no archive pages, feeds or links.
    enabled: bool = True
    editions: int = setting(60, ge=1, le=1000)  # editions listed on /archive/, newest first
    feed_entries: int = setting(20, ge=1, le=200)  # editions in each topic's Atom feed


@dataclass(frozen=True, kw_only=True)
class BounceSettings(Section):
    keep_days: int = setting(30, ge=1, le=365)  # how long the original of a bounce is kept for editors
    soft_limit: int = setting(3, ge=1)  # soft bounces within window_days before an address is suppressed
    window_days: int = setting(14, ge=1, le=365)
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
    fetch_minutes: int = setting(5, ge=1, le=24 * 60)  # how often the scheduler fetches (imap_url set)
    # Hosted senders' webhooks (unset: that webhook answers 404).
    ses_topic_arns: list[str] = field(default_factory=list)  # the SNS topics whose messages are accepted
    # Certificates of SNS signatures are fetched only from https://sns.<region>.amazonaws.com/...;
    # URLs starting with one of these are trusted too (a test certificate authority on loopback).
    sns_extra_certificate_urls: list[str] = field(default_factory=list)
    postmark_credentials: str | None = None  # "user:password" the Postmark webhook sends (basic auth)
    mailgun_signing_key: str | None = None  # the HTTP webhook signing key of the Mailgun account


@dataclass(frozen=True, kw_only=True)
class LoggingSettings(Section):
    # Off by default: an e-mail address in a log line is written as "…@example.org".
    addresses: bool = False
    # "text": one line per event for people; "json": one JSON object per line for log collectors.
    format: Literal["text", "json"] = "text"


def origins(value: list[str]) -> list[str]:
    for origin in value:
        parts = urlsplit(origin)
        if origin != "*" and (parts.scheme not in ("http", "https") or not parts.netloc or parts.path):
            raise ValueError(f"'{origin}' is not an origin: use scheme://host[:port], like https://example.org")
    return value


@dataclass(frozen=True, kw_only=True)
class ApiSettings(Section):
    # Origins (scheme://host[:port]) whose pages may call /api from a browser; empty: CORS stays off.
    cors_origins: list[str] = field(default_factory=list, metadata={CHECK: origins})
    # Requests one token may make per minute (in each web process); more get 429 with Retry-After.
    rate_limit_per_minute: int = setting(120, ge=1, le=100_000)


@dataclass(frozen=True, kw_only=True)
class MetricsSettings(Section):
    # Off: /metrics answers 404. On: Prometheus text format, read from the database at each scrape.
    enabled: bool = False
    # Set: scrapers must send "Authorization: Bearer <token>".
    token: str | None = None

"""The /metrics body: every number read from the database at scrape time, so it is the same
whichever web process answers and includes what the scheduler and the command line did.

The metrics (all named ``digest_*``) are listed in the README's "Health and metrics" section.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from digest.db.engine import session_scope
from digest.feeds import store as feed_store
from digest.feeds import story_store, topic_store
from digest.feeds.models import FEED_STATUSES
from digest.mail import outbox
from digest.mail.models import DELIVERY_STATES
from digest.monitoring import store as monitoring_store
from digest.subscribers import store as subscriber_store
from digest.subscribers.models import STATUSES

SEND_RATE_WINDOW = timedelta(minutes=5)


class DatabaseCollector(Collector):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        now = datetime.now(UTC)
        with session_scope(self.engine, read_only=True) as session:
            polls = monitoring_store.poll_counts(session)
            feeds = feed_store.count_by_status(session)
            topics = topic_store.count_by_topic(session)
            stories = story_store.count_stories(session)
            deliveries = outbox.counts(session)
            sent_recently = outbox.sent_since(session, now - SEND_RATE_WINDOW)
            people = subscriber_store.count_by_status(session)
            jobs = monitoring_store.job_stats(session)
            bounces = monitoring_store.bounce_counts(session)

        yield _labelled(CounterMetricFamily, "digest_feed_polls", "Feed fetches by outcome.", "outcome", polls)
        yield _labelled(GaugeMetricFamily, "digest_feeds", "Feeds by status.", "status", feeds, FEED_STATUSES)
        yield GaugeMetricFamily("digest_feeds_in_error", "Feeds whose last poll failed.", value=feeds.get("error", 0))
        yield GaugeMetricFamily("digest_stories", "Stories stored.", value=stories)
        yield _labelled(GaugeMetricFamily, "digest_stories_by_topic", "Stories carrying each topic.", "topic", topics)
        yield _labelled(
            GaugeMetricFamily, "digest_deliveries", "Deliveries by state.", "state", deliveries, DELIVERY_STATES
        )
        yield GaugeMetricFamily(
            "digest_send_rate_per_second",
            "Messages handed to the mail server per second, over the last 5 minutes.",
            value=sent_recently / SEND_RATE_WINDOW.total_seconds(),
        )
        yield _labelled(GaugeMetricFamily, "digest_subscribers", "Subscribers by status.", "status", people, STATUSES)
        if bounces is not None:
            yield _labelled(GaugeMetricFamily, "digest_bounces", "Bounces and complaints by kind.", "kind", bounces)
            yield GaugeMetricFamily("digest_complaints", "Complaints received.", value=bounces.get("complaint", 0))

        runs = CounterMetricFamily("digest_job_runs", "Scheduler job runs by outcome.", labels=["job", "outcome"])
        seconds = CounterMetricFamily(
            "digest_job_duration_seconds", "Time spent in scheduler jobs.", labels=["job", "outcome"]
        )
        last = GaugeMetricFamily(
            "digest_job_last_duration_seconds", "How long the job's last run took.", labels=["job"]
        )
        when = GaugeMetricFamily("digest_job_last_run_timestamp_seconds", "When the job last started.", labels=["job"])
        latest: dict[str, monitoring_store.JobStats] = {}
        for stat in jobs:
            runs.add_metric([stat.job, stat.outcome], stat.runs)
            seconds.add_metric([stat.job, stat.outcome], stat.seconds)
            if stat.job not in latest or stat.last_started_at > latest[stat.job].last_started_at:
                latest[stat.job] = stat
        for job, stat in sorted(latest.items()):
            last.add_metric([job], stat.last_seconds)
            when.add_metric([job], stat.last_started_at.timestamp())
        yield from (runs, seconds, last, when)


def _labelled(
    kind: type[CounterMetricFamily | GaugeMetricFamily],
    name: str,
    documentation: str,
    label: str,
    values: dict[str, int],
    every: Sequence[str] = (),
) -> Metric:
    """One metric with a value per label; the labels in ``every`` are shown even at zero."""
    family = kind(name, documentation, labels=[label])
    for key, value in sorted({**dict.fromkeys(every, 0), **values}.items()):
        family.add_metric([key], value)
    return family


def render_metrics(engine: Engine) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(engine))
    return generate_latest(registry)

"""``digest run``: APScheduler 3 jobs that only find due work and call the same functions as the CLI.

- poll: every tick, poll the feeds that are due;
- send: every day at digest.send_time (in digest.timezone), plan and deliver the current editions
  (with digest.review = "approve": plan them and wait for an editor's approval);
- retry: every few minutes, queue editions approved since (or past their review deadline), and
  deliver queued rows whose retry time has come;
- bounces: every bounces.fetch_minutes, fetch the bounce mailbox (when bounces.imap_url is set) and
  erase the originals of reports older than bounces.keep_days.

Every run is counted in the database (job_runs: runs and seconds by outcome; feed_poll_outcomes), for
/metrics in the web process. Jobs live in the database's scheduler_jobs table. Missed runs after
downtime are coalesced into one.
With several workers on PostgreSQL each job takes an advisory lock, so a job runs in one worker at a
time, and the work itself is claimed row by row. SIGTERM or Ctrl-C finishes the message in hand,
gives the rest back to the queue and exits cleanly.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from digest import __version__
from digest.config import Settings
from digest.db.engine import session_scope
from digest.db.locks import try_lock
from digest.db.scheduler_table import SCHEDULER_TABLE
from digest.digests.build import plan_edition, release_due
from digest.digests.deliver import deliver_queued
from digest.digests.review import settle
from digest.feeds.refresh import poll_feeds
from digest.monitoring.counting import counted, record_polls
from digest.subscribers.links import make_signer
from digest.subscribers.tokens import LinkSigner
from digest.tagging.rules import Ruleset

log = logging.getLogger("digest.run")
RETRY_MINUTES = 5


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    ruleset: Ruleset
    signer: LinkSigner
    stop: threading.Event = field(default_factory=threading.Event)


# APScheduler keeps jobs in the database by reference ("digest.scheduler:poll_job"), so a job cannot
# carry its settings with it: the running process registers them here once, at start.
_runtime: Runtime | None = None


def _current() -> Runtime:
    if _runtime is None:
        raise RuntimeError("the scheduler's jobs run only inside 'digest run'")
    return _runtime


def _engine() -> Engine:
    return _current().engine


@counted("poll", _engine)
def poll_job() -> None:
    rt = _current()
    with try_lock(rt.engine, "poll") as mine:
        if not mine:
            log.info("poll: skipped, another worker is polling")
            return
        s = rt.settings
        report = poll_feeds(rt.engine, s.feeds, s.user_agent(__version__), rt.ruleset)
        record_polls(rt.engine, (o.status for o in report.outcomes))
    log.info(
        "poll: %d feeds polled, %d ok, %d not modified, %d failed, %d new stories",
        len(report.outcomes),
        report.count("ok"),
        report.count("not-modified"),
        report.count("error") + report.count("gone"),
        report.new_stories,
    )


@counted("send", _engine)
def send_job() -> None:
    rt = _current()
    with try_lock(rt.engine, "plan") as mine:
        # Planning is safe to run twice (a delivery is unique per subscriber and edition); the lock
        # only saves the work.
        plan = plan_edition(rt.engine, rt.settings, rt.ruleset, datetime.now(UTC)) if mine else None
    report = deliver_queued(rt.engine, rt.settings, rt.ruleset, rt.signer, stop=rt.stop)
    done = _settle(rt)
    queued = f"{plan.queued} queued, {plan.empty} with nothing new" if plan else "planned by another worker"
    if plan and plan.waiting:
        names = ", ".join(plan.waiting.values())
        queued += f", {plan.waiting_readers} waiting for approval of {names}"
    log.info(
        "send: %s; sent %d, failed %d, retrying %d, cancelled %d",
        queued,
        report.sent,
        report.failed,
        report.retrying,
        report.cancelled,
    )
    _log_sent(done)


@counted("retry", _engine)
def retry_job() -> None:
    rt = _current()
    with try_lock(rt.engine, "plan") as mine:
        released = release_due(rt.engine, rt.settings, rt.ruleset, datetime.now(UTC)) if mine else None
    if released is not None and released.queued:
        log.info("retry: %d digests of approved editions queued", released.queued)
    report = deliver_queued(rt.engine, rt.settings, rt.ruleset, rt.signer, stop=rt.stop)
    done = _settle(rt)
    log.info("retry: sent %d, failed %d, retrying %d", report.sent, report.failed, report.retrying)
    _log_sent(done)


def bounces_job() -> None:
    from digest.bounces.imap import MailboxError, fetch_mailbox  # imaplib and the parsers: only here
    from digest.bounces.process import Processor, purge_originals

    rt = _current()
    purged = purge_originals(rt.engine, rt.settings)
    if purged:
        log.info("bounces: %d originals older than %d days erased", purged, rt.settings.bounces.keep_days)
    if not rt.settings.bounces.imap_url:
        return
    try:
        report = fetch_mailbox(rt.engine, rt.settings, Processor(rt.engine, rt.settings, rt.signer.keys))
    except MailboxError as exc:
        log.error("bounces: %s", exc)
        return
    if report.busy:
        log.info("bounces: skipped, another worker is fetching")
    else:
        log.info("bounces: %d reports processed, %d seen before", report.processed, report.skipped)


def _settle(rt: Runtime) -> list[str]:
    with session_scope(rt.engine) as session:
        return settle(session, datetime.now(UTC))


def _log_sent(keys: list[str]) -> None:
    for key in keys:
        log.info("edition %s is sent", key)


def build_scheduler(runtime: Runtime, tick_seconds: int) -> BackgroundScheduler:
    """A started scheduler, paused: resume it to run. Jobs already stored keep their next run time,
    so one missed while the service was down runs once at start (coalesced), not never."""
    global _runtime
    _runtime = runtime
    settings = runtime.settings
    hour, minute = (int(part) for part in settings.digest.send_time.split(":"))
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=runtime.engine, tablename=SCHEDULER_TABLE)},
        executors={"default": ThreadPoolExecutor(3)},
        # Downtime: one catch-up run, not a burst; each job runs once at a time per worker.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=settings.digest.timezone,
    )
    scheduler.start(paused=True)
    jobs = {
        "poll": ("digest.scheduler:poll_job", IntervalTrigger(seconds=tick_seconds)),
        "send": ("digest.scheduler:send_job", CronTrigger(hour=hour, minute=minute, timezone=settings.digest.timezone)),
        "retry": ("digest.scheduler:retry_job", IntervalTrigger(minutes=RETRY_MINUTES)),
        "bounces": ("digest.scheduler:bounces_job", IntervalTrigger(minutes=settings.bounces.fetch_minutes)),
    }
    for job_id, (function, trigger) in jobs.items():
        stored = scheduler.get_job(job_id)
        if stored is None:
            scheduler.add_job(function, trigger, id=job_id)
        elif str(stored.trigger) != str(trigger):  # the configuration changed: new times from now on
            stored.reschedule(trigger)
    return scheduler


def run_scheduler(settings: Settings, engine: Engine, ruleset: Ruleset, tick_seconds: int) -> None:
    """Run in the foreground until SIGTERM or Ctrl-C."""
    runtime = Runtime(settings, engine, ruleset, make_signer(settings, engine))
    scheduler = build_scheduler(runtime, tick_seconds)
    stopping = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping on %s: finishing the work in hand", signal.Signals(signum).name)
        runtime.stop.set()
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    scheduler.resume()
    log.info(
        "running: poll every %d s, send daily at %s %s, retries every %d min",
        tick_seconds,
        settings.digest.send_time,
        settings.digest.timezone,
        RETRY_MINUTES,
    )
    stopping.wait()
    scheduler.shutdown(wait=True)
    log.info("stopped")

"""Benchmark: what each page of the editors' console costs at scale, against /healthz.

Builds a database with --subscribers readers (imported from a CSV by the real importer, 90 % of
them confirmed, daily and weekly), --stories stories (the headlines and summaries of the real feeds
in ../shared/data/real-feeds, repeated with other links and dates over 60 days, across 50 feeds,
tagged and grouped into events by the real pipeline stages), editors' pins on 100 of them, and
three planned daily editions plus a weekly one. Then serves the app in this process (Starlette's
test client, signed in as an editor) and times each console page, interleaved with GET /healthz
(the baseline: routing, middleware, no database): wall time per request, median of --rounds.

The rows "after a new pin" change a pin before each request (outside the timing): the stories page
stays quick, the rule proposals page must work them out again; "rule proposals" finds them kept.

    python bench/console.py [--subscribers 100000] [--stories 50000] [--rounds 5]
                            [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from digest.config import DigestSettings, Settings
from digest.db.engine import make_engine, session_scope
from digest.db.migrate import upgrade
from digest.db.models import import_all_models
from digest.digests.build import plan_edition
from digest.digests.editions import edition_for
from digest.editors import store as editors
from digest.events.group import group_new_stories
from digest.feeds import entry_store, store, story_store, topic_store
from digest.feeds.parse import ParsedEntry, parse_feed
from digest.feeds.retag import tag_and_save
from digest.subscribers.importer import import_csv
from digest.tagging.rules import Ruleset, load_rules
from digest.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
REAL_FEEDS = ROOT.parent / "shared" / "data" / "real-feeds"
FEEDS = 50
PASSWORD = "a long bench password"


def real_entries(now: datetime) -> list[ParsedEntry]:
    """Every entry of the real feeds that has a headline and a summary."""
    found = []
    for path in sorted(REAL_FEEDS.glob("*.xml")):
        parsed = parse_feed(path.read_bytes(), f"https://{path.stem}.example/feed", now=now)
        found += [e for e in parsed.entries if e.title and e.summary_text]
    return found


def add_stories(engine: Engine, ruleset: Ruleset, count: int, now: datetime) -> None:
    pool = real_entries(now)
    with session_scope(engine) as session:
        feeds = [store.add_feed(session, f"https://feed{f}.example/rss", f"Outlet {f}", now).id for f in range(FEEDS)]
    # Oldest first, 1,000 at a time across every feed, each batch first seen when published (as a
    # poller would have): a day's news is a day's worth, not everything at once.
    for start in range(0, count, 1000):
        by_feed: dict[int, list[ParsedEntry]] = {}
        for n in range(start, min(count, start + 1000)):
            real, feed = pool[n % len(pool)], n % FEEDS
            link = f"https://feed{feed}.example/{n}"
            published = now - timedelta(days=60) * (1 - n / count)
            by_feed.setdefault(feeds[feed], []).append(
                replace(real, link=link, guid=link, published_at=published, content_html="", content_hash=link)
            )
        seen = max(e.published_at or now for batch in by_feed.values() for e in batch)
        with session_scope(engine) as session:
            for feed_id, entries in by_feed.items():
                counts = entry_store.save_entries(session, feed_id, entries, seen)
                texts = {i: (e.title, e.summary_text, "") for i, e in counts.changed.items()}
                tag_and_save(session, ruleset, texts, seen, new=counts.created)
    with session_scope(engine) as session:
        group_new_stories(session, now)


def add_subscribers(engine: Engine, settings: Settings, ruleset: Ruleset, count: int, folder: Path) -> None:
    slugs = list(ruleset.slugs)
    groups = [slugs[i:j] for i in range(len(slugs)) for j in range(i + 1, len(slugs) + 1)]
    path = folder / "readers.csv"
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["email", "topics", "frequency", "confirmed"])
        for n in range(1, count + 1):
            confirmed = "false" if n % 10 == 0 else "true"
            out.writerow(
                [f"reader{n}@example.org", ";".join(groups[n % len(groups)]), ("daily", "weekly")[n % 2], confirmed]
            )
    import_csv(engine, settings, path, slugs)


def add_pins(engine: Engine, now: datetime) -> None:
    """Editors' decisions on 100 stories: one topic taken off 50 stories, another pinned on 50."""
    with session_scope(engine) as session:
        carried = [s.id for s in story_store.list_stories(session, limit=100, topic="ai-misuse")]
        for story_id in carried[:50]:
            topic_store.set_manual(session, story_id, "ai-misuse", "removed", now)
        for story_id in carried[50:]:
            topic_store.set_manual(session, story_id, "deepfakes", "pinned", now)


def populate(engine: Engine, settings: Settings, ruleset: Ruleset, args: argparse.Namespace, folder: Path) -> None:
    now = datetime.now(UTC)
    began = time.perf_counter()
    add_stories(engine, ruleset, args.stories, now)
    add_subscribers(engine, settings, ruleset, args.subscribers, folder)
    add_pins(engine, now)
    for days in (2, 1, 0):
        plan_edition(engine, settings, ruleset, now - timedelta(days=days))
    with session_scope(engine) as session:
        editors.set_editor(session, "bench", PASSWORD, now)
    print(f"database ready in {time.perf_counter() - began:.0f} s ({engine.dialect.name}, load {os.getloadavg()})")


def timed(client: TestClient, path: str, before: Callable[[], None] | None = None) -> float:
    if before is not None:
        before()
    start = time.perf_counter()
    answer = client.get(path)
    elapsed = time.perf_counter() - start
    assert answer.status_code == 200, (path, answer.status_code)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--stories", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", help="an empty database (default: a new SQLite file)")
    parser.add_argument("--reuse", action="store_true", help="time the pages of a database built by an earlier run")
    args = parser.parse_args()
    import_all_models()
    folder = Path(tempfile.mkdtemp(prefix="digest-bench-console-"))
    url = args.database_url or f"sqlite:///{folder / 'digest.db'}"
    settings = Settings(
        database_url=url,
        mail_url=f"file://{folder / 'outbox'}",
        secret_key="bench",
        base_url="http://testserver",
        digest=DigestSettings(timezone="UTC"),
    )
    print(f"database: {url}")
    engine = make_engine(url)
    upgrade(engine)
    ruleset = load_rules(ROOT / "config" / "topics.toml")
    if args.reuse:
        print(f"reusing {url}")
    else:
        populate(engine, settings, ruleset, args, folder)
    now = datetime.now(UTC)
    with session_scope(engine, read_only=True) as session:
        newest = story_store.list_stories(session, limit=1)[0].id

    today = edition_for("daily", now, "UTC").partition(":")[2]
    week = edition_for("weekly", now, "UTC").partition(":")[2]
    day = (now - timedelta(days=3)).date().isoformat()
    someone = max(1, args.subscribers * 42 // 1000)  # an id the importer gave (it counts from 1)
    pages = {
        "GET /healthz (baseline)": "/healthz",
        "topics (dashboard)": "/editor/topics",
        "stories": "/editor/stories",
        # Kept proposals first: each "after a new pin" row changes what they depend on.
        "rule proposals": "/editor/stories/proposals",
        "rule proposals, after a new pin": "/editor/stories/proposals",
        "stories, after a new pin": "/editor/stories",
        "stories ?q=ransomware": "/editor/stories?q=ransomware",
        "stories ?q=court+data (2 words)": "/editor/stories?q=court+data",
        "stories ?topic=deepfakes": "/editor/stories?topic=deepfakes",
        "stories ?topic=- (none)": "/editor/stories?topic=-",
        "stories ?feed=7&from&to": f"/editor/stories?feed=7&from={day}&to={day}",
        "stories ?page=2000 (deep)": "/editor/stories?page=2000",
        "feeds": "/editor/feeds",
        "feed page (edit)": "/editor/feeds/7/edit",
        "subscribers": "/editor/subscribers",
        "subscribers ?q=reader…": f"/editor/subscribers?q=reader{someone}",
        "subscriber page": f"/editor/subscribers/{someone}",
        "editions": "/editor/editions",
        "edition (daily, today)": f"/editor/editions/{today}",
        "edition (weekly)": f"/editor/editions/{week}",
        "deliveries": "/editor/deliveries",
        "deliveries ?q=reader…": f"/editor/deliveries?q=reader{someone}",
        "deliveries of a subscriber": f"/editor/deliveries/subscriber/{someone}",
        "events (7 days)": "/editor/events",
        "events (30 days)": "/editor/events?days=30",
    }
    flips = iter(range(1, 10**9))  # pinned on first: a change every time

    def new_pin() -> None:
        with session_scope(engine) as session:
            origin = "pinned" if next(flips) % 2 else None
            topic_store.set_manual(session, newest, "child-protection", origin, datetime.now(UTC))

    times: dict[str, list[float]] = {name: [] for name in pages}
    with TestClient(create_app(settings, engine, ruleset), follow_redirects=False) as client:
        client.post("/editor/login", data={"username": "bench", "password": PASSWORD})
        for path in pages.values():
            timed(client, path)  # warm: templates compiled, caches filled

        # Kept proposals are timed right after a load that worked them out: the previous round's
        # new pins have changed what they depend on since.
        def work_out_proposals() -> None:
            client.get("/editor/stories/proposals")

        before: dict[str, Callable[[], None]] = {
            "rule proposals": work_out_proposals,
            **{name: new_pin for name in pages if name.endswith("after a new pin")},
        }
        for _round in range(args.rounds):
            for name, path in pages.items():
                times[name].append(timed(client, path, before.get(name)))
    baseline = statistics.median(times["GET /healthz (baseline)"])
    print(f"{args.subscribers:,} subscribers, {args.stories:,} stories; load average now {os.getloadavg()}")
    print(f"{'page':<34} {'median':>10} {'ratio to /healthz':>18}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<34} {median * 1000:>7.1f} ms {median / baseline:>18.0f}")
    engine.dispose()


if __name__ == "__main__":
    main()

"""Benchmark: what a JSON API call costs on top of the web app answering at all.

Serves the app in this process (Starlette's test client, no network) on a fresh SQLite database with
1,000 tagged stories and one token of each scope, and times, interleaved, GET /healthz (the baseline:
routing, middleware, a JSON body, no database), GET /api/topics (bearer check, rate limit, one
count query), GET /api/stories?limit=50 (a page with topics, sources and events) and /metrics (every
count the scrape reads). CPU time per request, median of --rounds rounds of --requests each.

    python bench/api.py [--rounds 5] [--requests 200]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from digest.api_tokens.access import issue_token
from digest.config import ApiSettings, MetricsSettings, Settings
from digest.db.engine import make_engine, session_scope
from digest.db.migrate import upgrade
from digest.db.models import import_all_models
from digest.feeds import entry_store, store
from digest.feeds.parse import parse_feed
from digest.feeds.retag import tag_and_save
from digest.tagging.rules import load_rules
from digest.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
TITLES = ["Court fines deepfake app maker", "Chatbot scam ring charged", "Council approves the budget"]


def feed(n: int) -> bytes:
    items = "".join(
        f"<item><title>{TITLES[i % 3]} {i}</title><link>https://n.example/{n}/{i}</link>"
        f"<description>A story about {TITLES[i % 3].lower()}.</description></item>"
        for i in range(100)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>F{n}</title>{items}</channel></rss>'.encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    import_all_models()
    folder = Path(tempfile.mkdtemp(prefix="digest-bench-api-"))
    url = f"sqlite:///{folder / 'digest.db'}"
    engine = make_engine(url)
    upgrade(engine)
    ruleset = load_rules(ROOT / "config" / "topics.toml")
    now = datetime.now(UTC)
    for n in range(10):
        parsed = parse_feed(feed(n), f"https://f{n}.example/rss", now=now - timedelta(minutes=n))
        with session_scope(engine) as session:
            feed_id = store.add_feed(session, f"https://f{n}.example/rss", f"F{n}", now).id
            counts = entry_store.save_entries(session, feed_id, parsed.entries, now)
            texts = {i: (e.title, e.summary_text, e.content_html) for i, e in counts.changed.items()}
            tag_and_save(session, ruleset, texts, now, new=counts.created)
    with session_scope(engine) as session:
        token = issue_token(session, "bench", "read", now)
    settings = Settings(
        database_url=url,
        mail_url=f"file://{folder / 'outbox'}",
        secret_key="bench",
        api=ApiSettings(rate_limit_per_minute=100_000),
        metrics=MetricsSettings(enabled=True),
    )
    headers = {"Authorization": f"Bearer {token}"}
    calls = {
        "GET /healthz (baseline)": ("/healthz", {}),
        "GET /api/topics": ("/api/topics", headers),
        "GET /api/stories?limit=50": ("/api/stories?limit=50", headers),
        "GET /metrics": ("/metrics", {}),
    }
    times: dict[str, list[float]] = {name: [] for name in calls}
    with TestClient(create_app(settings, engine, ruleset)) as client:
        for path, sent in calls.values():
            assert client.get(path, headers=sent).status_code == 200, path
        for _round in range(args.rounds):
            for name, (path, sent) in calls.items():
                start = time.process_time()
                for _ in range(args.requests):
                    client.get(path, headers=sent)
                times[name].append((time.process_time() - start) / args.requests)
    baseline = statistics.median(times["GET /healthz (baseline)"])
    print(f"{'call':<28} {'CPU per request':>16} {'ratio to /healthz':>18}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<28} {median * 1000:>13.2f} ms {median / baseline:>18.1f}")
    engine.dispose()


if __name__ == "__main__":
    main()

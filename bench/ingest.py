"""Benchmark: ingesting feeds, from fetch to committed rows, against feedparser alone on the same bytes.

Builds N local feed files (default 200 feeds x 50 entries), serves them on 127.0.0.1 with nginx
(``/usr/sbin/nginx``, Debian's nginx-light: a static server that costs the machine's two cores
little; without it, a Python http.server in another process), and reports:
- the time of a full poll (fetch, parse, normalise, sanitise, de-duplicate, store, commit);
- the time feedparser.parse alone takes on the same bytes, and the ratio of the two (target <= 0.6 on
  SQLite, <= 0.8 on PostgreSQL, whose server shares the machine's cores with the poll);
- the time of a second poll in which every feed answers 304, as a fraction of the first.

    python bench/ingest.py [--feeds 200] [--entries 50] [--database-url URL] [--python-server]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import feedparser

# The poll's parser workers start from a server process that imports this script first, as they
# would import the small `digest` command's script: what the poll itself needs (the database layer,
# the HTTP client, grouping) is imported in main(), so the workers start as light as they do there.

# Body text: ordinary newsroom words. Headlines and summaries come from the labelled stories in
# tests/tagging, so the tagger sees news-like text rather than a stream of trigger words.
WORDS = [
    "court",
    "regulator",
    "said",
    "on",
    "monday",
    "that",
    "the",
    "company",
    "would",
    "appeal",
    "the",
    "ruling",
    "after",
    "months",
    "of",
    "talks",
    "with",
    "officials",
    "who",
    "want",
    "clearer",
    "rules",
    "for",
    "online",
    "services",
    "and",
    "more",
    "staff",
    "for",
    "enforcement",
    "teams",
]
ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"sqlite": 0.6, "postgresql": 0.8}  # poll / feedparser alone
HEADLINES = [
    json.loads(line)
    for path in sorted((ROOT / "tests" / "tagging").glob("*.jsonl"))
    for line in path.read_text().splitlines()
    if line.strip()
]


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def build_feed(index: int, entries: int, rng: random.Random) -> str:
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    items = []
    for j in range(entries):
        story = rng.choice(HEADLINES)
        more = f"<a href='https://site{index}.example/more/{j}'>More</a>"
        summary = f"<p>{escape(story['summary'])} {sentence(rng, 25)} {more}</p>"
        content = "".join(f"<p>{sentence(rng, 50)} <em>{sentence(rng, 5)}</em></p>" for _ in range(4))
        items.append(
            f"<item><title>{escape(story['title'])}</title>"
            f"<link>https://site{index}.example/news/{j}?utm_source=rss</link>"
            f"<guid isPermaLink='false'>site{index}-{j}</guid>"
            f"<pubDate>{format_datetime(now - timedelta(minutes=17 * j + index))}</pubDate>"
            f"<description>{escape(summary)}</description>"
            f"<content:encoded><![CDATA[{content}]]></content:encoded></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>Bench feed {index}</title><link>https://site{index}.example/</link>"
        f"<description>benchmark</description>{''.join(items)}</channel></rss>"
    )


# A static server like `python -m http.server`, but with a listen backlog that does not drop
# connections when ten arrive at once (a dropped SYN costs a one-second retransmit).
SERVER = """
import functools, sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
class Server(ThreadingHTTPServer):
    request_queue_size = 128
class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args): pass
Server(("127.0.0.1", int(sys.argv[1])), functools.partial(Quiet, directory=sys.argv[2])).serve_forever()
"""


# nginx as a child in the foreground, with a throwaway configuration: one worker, no access log,
# every path it writes (pid, temporary files) inside the benchmark's own folder.
NGINX = "/usr/sbin/nginx"
NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {work}/nginx.pid;
error_log stderr error;
events {{ worker_connections 512; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 10000;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    types {{ application/rss+xml xml; }}
    server {{
        listen 127.0.0.1:{port} backlog=512;
        root {root};
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_command(folder: Path, port: int, python_server: bool) -> tuple[list[str], str]:
    """How to serve ``folder`` on ``port``: nginx when installed, else Python's http.server."""
    if python_server or not os.access(NGINX, os.X_OK):
        return [sys.executable, "-c", SERVER, str(port), str(folder)], "Python http.server (separate process)"
    work = folder.parent / "nginx"
    work.mkdir(exist_ok=True)
    config = work / "nginx.conf"
    config.write_text(NGINX_CONF.format(work=work, port=port, root=folder))
    # The worker may run as another user (root starts it as nobody): the feeds must be readable.
    for path in (folder.parent, folder, *folder.iterdir()):
        path.chmod(path.stat().st_mode | 0o755 if path.is_dir() else path.stat().st_mode | 0o644)
    return [NGINX, "-e", "stderr", "-p", str(work), "-c", str(config)], "nginx (separate process)"


@contextlib.contextmanager
def serve_in_subprocess(folder: Path, python_server: bool = False) -> Iterator[tuple[str, str]]:
    port = free_port()
    command, kind = server_command(folder, port, python_server)
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                if server.poll() is not None:
                    sys.exit(f"the feed server stopped: {shutil.which(command[0]) or command[0]}")
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/", kind
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--python-server", action="store_true", help="serve with http.server even if nginx is here")
    args = parser.parse_args()

    from digest import __version__
    from digest.config import FeedSettings
    from digest.db.engine import make_engine, session_scope
    from digest.db.migrate import upgrade
    from digest.feeds import store, story_store
    from digest.feeds.refresh import poll_feeds, start_parsers
    from digest.tagging.learned import load_model
    from digest.tagging.rules import load_rules

    # As `digest poll` and `digest run` do when they start: the server the parser workers are forked
    # from imports what they need while the command reads its settings and rules (here, while the
    # feeds are built and feedparser alone is timed); `digest run` keeps it from one poll to the next.
    start_parsers(FeedSettings())
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "feeds"
        folder.mkdir()
        bodies = []
        for i in range(args.feeds):
            text = build_feed(i, args.entries, rng)
            (folder / f"feed{i}.xml").write_text(text)
            bodies.append(text.encode())
        total_mb = sum(map(len, bodies)) / 1e6

        started = time.perf_counter()
        for body in bodies:
            feedparser.parse(body)
        baseline = time.perf_counter() - started

        engine = make_engine(args.database_url or f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        settings = FeedSettings(allow_private_networks=True)  # the feeds are served on loopback
        # The rules with the learned layer beside them, as `digest poll` reads them.
        ruleset = replace(
            load_rules(ROOT / "config" / "topics.toml"), learned=load_model(ROOT / "config" / "learned.json")
        )
        # The feeds are served by a separate process, as a publisher's server would be: a server thread
        # in this process would compete with the poll for the interpreter.
        with serve_in_subprocess(folder, args.python_server) as (base, server):
            with session_scope(engine) as s:
                for i in range(args.feeds):
                    store.add_feed(s, f"{base}feed{i}.xml", None, datetime.now(UTC))
            started = time.perf_counter()
            first = poll_feeds(engine, settings, f"digest/{__version__} bench", ruleset)
            ingest = time.perf_counter() - started
            started = time.perf_counter()
            second = poll_feeds(engine, settings, f"digest/{__version__} bench", ruleset, all_feeds=True)
            cached = time.perf_counter() - started
        with session_scope(engine) as s:
            stored = story_store.count_stories(s)
        engine.dispose()

    expected = args.feeds * args.entries
    if first.new_stories != expected or stored != expected or second.count("not-modified") != args.feeds:
        sys.exit(f"benchmark run went wrong: {first.new_stories} new, {stored} stored, expected {expected}")
    print(f"ingest: {args.feeds} feeds x {args.entries} entries ({total_mb:.1f} MB) on {engine.dialect.name}")
    print(f"  feeds served by {server}")
    print(f"  feedparser.parse alone      {baseline:7.2f} s  ({expected / baseline:,.0f} entries/s)")
    print(f"  digest poll, fetch->commit  {ingest:7.2f} s  ({expected / ingest:,.0f} entries/s)")
    target = TARGETS.get(engine.dialect.name, 1.0)
    print(f"  ratio poll / feedparser     {ingest / baseline:7.2f}   (target <= {target})")
    print(f"  second poll, all 304        {cached:7.2f} s  = {cached / ingest:.1%} of the first")


if __name__ == "__main__":
    main()

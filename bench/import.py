"""Benchmark: `digest subscribers import` of a generated CSV, against a bare reader and insert loop.

Writes a CSV of N rows (default 100,000; 90 % confirmed, the rest pending; 2,000 mail domains of
skewed popularity; one to three topics each), then times in the same run:
- digest: the real command, `python -m digest subscribers import FILE --no-confirmation-mail`, in a
  child process on a fresh database (progress bar, validation, suppression check, bulk inserts of
  subscribers, topics and consent records), then the same file again (every row already there);
- baseline: csv.reader over the same file and a bare executemany of its rows, as they are, into a
  table with the same four columns, committed in batches of the same size.
Prints rows/s, elapsed time, the ratio digest / baseline and the peak memory of the import process.

    python bench/import.py [--rows 100000] [--database-url URL]   (URL: an empty PostgreSQL database)
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from digest.db.engine import make_engine
from digest.db.migrate import upgrade
from digest.subscribers.importer import BATCH

ROOT = Path(__file__).resolve().parents[1]
TOPICS = ["ai-misuse", "child-protection", "deepfakes"]


def write_csv(path: Path, rows: int) -> None:
    chooser = random.Random(7)
    domains = [f"mail{i}.example.org" for i in range(2000)]
    weights = [1 / (rank + 1) for rank in range(len(domains))]  # a few big providers, a long tail
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["email", "topics", "frequency", "confirmed"])
        picks = chooser.choices(domains, weights, k=rows)
        for i, domain in enumerate(picks):
            topics = ";".join(chooser.sample(TOPICS, chooser.randint(1, 3)))
            out.writerow([f"reader.{i}@{domain}", topics, chooser.choice(("daily", "weekly")), i % 10 != 0])


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_import(path: Path, database_url: str, workdir: Path) -> tuple[float, float, str]:
    env = {
        **os.environ,
        "DIGEST_DATABASE_URL": database_url,
        "DIGEST_TOPICS_FILE": str(ROOT / "config" / "topics.toml"),
        "DIGEST_MAIL_URL": f"file://{workdir / 'outbox'}",
    }
    command = [sys.executable, "-m", "digest", "subscribers", "import", str(path), "--no-confirmation-mail"]
    cpu = children_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=workdir, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"the import failed:\n{done.stdout}\n{done.stderr}")
    summary = next(line for line in done.stdout.splitlines() if line.startswith("imported "))
    return elapsed, children_cpu() - cpu, summary


def baseline(path: Path, database_url: str | None, workdir: Path) -> tuple[float, float]:
    """csv.reader plus a bare executemany of the same rows, in batches, on the same kind of database."""
    connection: Any
    if database_url:
        import psycopg

        connection = psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://"))
        mark = "%s"
    else:
        connection = sqlite3.connect(workdir / "baseline.db")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        mark = "?"
    try:
        connection.execute("DROP TABLE IF EXISTS bench_baseline")
        connection.execute(
            "CREATE TABLE bench_baseline (email VARCHAR(320) UNIQUE, topics TEXT, frequency TEXT, confirmed TEXT)"
        )
        connection.commit()
        cpu = own_cpu()
        started = time.perf_counter()
        with path.open(newline="") as fh:
            reader = csv.reader(fh)
            next(reader)
            batch: list[list[str]] = []
            insert = f"INSERT INTO bench_baseline VALUES ({mark}, {mark}, {mark}, {mark})"
            for row in reader:
                batch.append(row)
                if len(batch) >= BATCH:
                    connection.cursor().executemany(insert, batch)
                    connection.commit()
                    batch = []
            connection.cursor().executemany(insert, batch)
            connection.commit()
        elapsed, cpu = time.perf_counter() - started, own_cpu() - cpu
        connection.execute("DROP TABLE bench_baseline")
        connection.commit()
    finally:
        connection.close()
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", help="an empty PostgreSQL database; default: a fresh SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        path = workdir / "subscribers.csv"
        write_csv(path, args.rows)
        database_url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
        engine = make_engine(database_url)
        upgrade(engine)
        engine.dispose()
        elapsed, cpu, summary = run_import(path, database_url, workdir)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        again, again_cpu, again_summary = run_import(path, database_url, workdir)
        bare, bare_cpu = baseline(path, args.database_url, workdir)
        size = path.stat().st_size

    kind = "PostgreSQL" if args.database_url else "SQLite"
    server = " (the server's own CPU time not counted)" if args.database_url else ""
    print(f"import: {args.rows:,} rows ({size / 2**20:.1f} MiB of CSV) into {kind}; wall clock and CPU time{server}")
    print(f"  csv.reader + bare executemany   {args.rows / bare:9,.0f} rows/s   {bare:6.1f} s   cpu {bare_cpu:6.1f} s")
    print(f"  digest subscribers import       {args.rows / elapsed:9,.0f} rows/s   {elapsed:6.1f} s   cpu {cpu:6.1f} s")
    print(f"    {summary}")
    print(
        f"  the same file again             {args.rows / again:9,.0f} rows/s   {again:6.1f} s   cpu {again_cpu:6.1f} s"
    )
    print(f"    {again_summary}")
    print(f"  ratio digest / bare             {elapsed / bare:9.2f}   (cpu {cpu / bare_cpu:.2f})")
    print(f"  peak memory of the import: {peak / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()

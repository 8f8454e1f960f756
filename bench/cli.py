"""Benchmark: how long the command line takes to answer, against starting Python itself.

Times ``digest --help`` and the light commands (``feeds list``, ``subscribers export EMAIL``,
``topics``, ``stories list``, ``editions list``) as fresh processes (``python -m digest``, run from the
repository with its config/digest.toml) on a small SQLite database (20 feeds, one subscriber), and
two baselines with the same interpreter: ``python -c pass`` and ``python -c "import sqlalchemy"``
(the floor of any command that reads the database). The runs are interleaved, so a busy moment
slows every command alike; each figure is the median of --runs, as wall-clock time and as CPU time
(user + system, which a busy machine disturbs less). Bytecode is written once before timing, as an
installed copy has it. Target: every command under 0.3 s.

    python bench/cli.py [--runs 15] [--before DIR]

``--before DIR`` also times the same commands from another copy of the source tree (for instance
``git archive <commit> | tar -x -C DIR``), run with the same interpreter and libraries.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from digest.db.engine import make_engine, session_scope
from digest.db.migrate import upgrade
from digest.feeds import store as feeds
from digest.subscribers import store as subscribers

ROOT = Path(__file__).resolve().parents[1]
EMAIL = "reader@example.org"
BASE = "python -c pass (baseline)"
SQLA = 'python -c "import sqlalchemy"'
COMMANDS = {
    BASE: ["-c", "pass"],
    SQLA: ["-c", "import sqlalchemy"],
    "digest --help": ["-m", "digest", "--help"],
    "digest feeds list": ["-m", "digest", "feeds", "list"],
    "digest feeds list --json": ["-m", "digest", "feeds", "list", "--json"],
    "digest subscribers export": ["-m", "digest", "subscribers", "export", EMAIL],
    "digest topics": ["-m", "digest", "topics"],
    "digest stories list": ["-m", "digest", "stories", "list"],
    "digest editions list": ["-m", "digest", "editions", "list"],
}


def prepare(folder: Path) -> str:
    url = f"sqlite:///{folder / 'digest.db'}"
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        for n in range(20):
            feeds.add_feed(session, f"https://news{n}.example/feed.xml", f"News {n}", now)
        reader = subscribers.create(session, EMAIL, "weekly", now)
        subscribers.set_topics(session, reader, ["deepfakes", "ai-misuse"])
    engine.dispose()
    return url


def run_once(args: list[str], env: dict[str, str], cwd: Path = ROOT) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{args} failed: {done.stderr.decode(errors='replace')}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--before", type=Path, help="another source tree to time the same commands from")
    args = parser.parse_args()
    commands = dict(COMMANDS)
    if args.before:
        commands.update({f"{name} (before)": cmd for name, cmd in COMMANDS.items() if cmd[0] == "-m"})
    with tempfile.TemporaryDirectory() as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
        env["DIGEST_DATABASE_URL"] = prepare(Path(folder))
        # Bytecode as an installed copy has it, even where PYTHONDONTWRITEBYTECODE is set.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(folder) / "pycache")

        def where(name: str) -> Path:
            # python -m puts the working folder first on the path: run from the other tree to time it.
            return args.before.resolve() if name.endswith("(before)") else ROOT

        for name, command in commands.items():  # warm the file cache and write the bytecode
            run_once(command, env, where(name))
        wall: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                elapsed, used = run_once(command, env, where(name))
                wall[name].append(elapsed)
                cpu[name].append(used)
    print(f"command line start-up: median of {args.runs} interleaved runs each ({sys.executable})")
    print(f"  {'':<36} {'wall':>8} {'/pass':>6} {'/sqla':>6}   {'CPU':>8} {'/pass':>6} {'/sqla':>6}")
    base_wall, sqla_wall = statistics.median(wall[BASE]), statistics.median(wall[SQLA])
    base_cpu, sqla_cpu = statistics.median(cpu[BASE]), statistics.median(cpu[SQLA])
    for name in commands:
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        print(
            f"  {name:<36} {w:7.3f}s {w / base_wall:6.1f} {w / sqla_wall:6.2f}"
            f"   {c:7.3f}s {c / max(base_cpu, 1e-3):6.1f} {c / max(sqla_cpu, 1e-3):6.2f}"
        )
    slowest = max(statistics.median(wall[name]) for name in COMMANDS if name.startswith("digest"))
    print(f"  slowest command: {slowest:.3f} s wall (target: < 0.3 s)")


if __name__ == "__main__":
    main()

"""Benchmark: what bounces cost, each against a baseline measured in the same process.

- return path: one VERP envelope sender per digest copy (``ReturnPath.for_delivery``), against the two
  signed links every copy already carries (``LinkSigner.make_each``): the send path's added cost;
- processing: parsing and classifying the corpus (tests/bounces/corpus), against only parsing each
  message with the email package (the least any bounce reader must do).

Rates are per second of this process's CPU time in the fastest of five rounds.

    python bench/bounces.py [--copies 50000]
"""

from __future__ import annotations

import argparse
import email
import email.policy
import time
from collections.abc import Callable
from pathlib import Path

from digest.bounces.classify import classify_report
from digest.bounces.parse import parse_report
from digest.mail.return_path import ReturnPath
from digest.subscribers.tokens import LinkSigner

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "bounces" / "corpus"


def rate(work: Callable[[], int]) -> float:
    best = float("inf")
    done = 0
    for _ in range(5):
        start = time.process_time()
        done = work()
        best = min(best, time.process_time() - start)
    return done / best if best else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=50_000)
    args = parser.parse_args()
    n: int = args.copies
    signer = LinkSigner("bench-key")
    path = ReturnPath("bounces@bounce.example.org", "digest@example.org", signer.keys)
    key = "x" * 32

    def links() -> int:
        for _ in range(n):
            signer.make_each(("preferences", "unsubscribe"), key)
        return n

    def verp() -> int:
        for i in range(n):
            path.for_delivery(i + 1)
        return n

    baseline, ours = rate(links), rate(verp)
    print(
        f"return path: {ours:,.0f} copies/s; two signed links (baseline) {baseline:,.0f} copies/s;"
        f" ours/baseline {ours / baseline:.2f}"
    )

    messages = [p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))] * 20

    def parse_only() -> int:
        for raw in messages:
            email.message_from_bytes(raw, policy=email.policy.compat32)
        return len(messages)

    def classify() -> int:
        for raw in messages:
            classify_report(parse_report(raw))
        return len(messages)

    baseline, ours = rate(parse_only), rate(classify)
    print(
        f"processing: {ours:,.0f} reports/s; email parse only (baseline) {baseline:,.0f}/s;"
        f" ours/baseline {ours / baseline:.2f}"
    )


if __name__ == "__main__":
    main()

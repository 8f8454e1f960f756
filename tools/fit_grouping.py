"""Fit the event score's weights (digest/events/scoring.py Params) on labelled stories.

Every two stories of a training part within the event window are one example (same event or not),
described by the terms the score weighs (scoring.EVENT_TERMS); a logistic regression gives the
weights and the bias, so the score is the log-odds of one event. The threshold is then chosen by
grouping the training parts as the product does (average link over an event's stories) and keeping
the one with the best pairwise F0.5 over all of them (precision counting twice: see ``fit``). The
held-out parts are never read here; score them with bench/events.py. ``--cv`` first scores each
training part with weights fitted on the others.

    python tools/fit_grouping.py [--parts dev dev2 train-2023 train-2025 real-feeds] [--cv] [--c 1.0]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from digest.events.grouping import compared_pairs, group_stories
from digest.events.measure import Labelled, Scores, pairwise
from digest.events.scoring import DEFAULT_PARAMS, EVENT_TERMS, Params

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the labelled parts live beside the tests
from tests.events.labelled import DEVELOPMENT, load_part


def examples(parts: dict[str, list[Labelled]]) -> tuple[np.ndarray, np.ndarray]:
    rows, labels = [], []
    for data in parts.values():
        for i, j, terms in compared_pairs([d.story for d in data]):
            rows.append(terms)
            labels.append(data[i].event == data[j].event)
    return np.array(rows), np.array(labels)


def scores(params: Params, parts: dict[str, list[Labelled]]) -> tuple[dict[str, float], Scores]:
    """Each part's events F1, and all parts' pairs counted together (so a part with many reports of
    one event weighs more); each part is grouped once."""
    each: dict[str, float] = {}
    truth: list[str] = []
    found: list[str] = []
    for name, data in parts.items():
        events = [a.event for a in group_stories([d.story for d in data], params)]
        each[name] = pairwise([d.event for d in data], events).f1
        truth += [f"{name}/{d.event}" for d in data]
        found += [f"{name}/{event}" for event in events]
    return each, pairwise(truth, found)


def fit(parts: dict[str, list[Labelled]], c: float, *, quiet: bool = False) -> Params:
    """The weights fitted on these parts, with the threshold that groups them best."""
    x, y = examples(parts)
    model = LogisticRegression(C=c, max_iter=5000).fit(x, y)
    weights = tuple(round(float(w), 3) for w in model.coef_[0])
    fitted = replace(DEFAULT_PARAMS, event_weights=weights, event_bias=round(float(model.intercept_[0]), 3))
    if not quiet:
        print(f"{len(y):,} pairs, {int(y.sum()):,} of one event")
        for term, weight in zip(EVENT_TERMS, weights, strict=True):
            print(f"  {term:<20} {weight:7.3f}")
    chosen, best = fitted, -1.0
    for threshold in np.arange(-3.0, 1.01, 0.25):
        params = replace(fitted, event_threshold=float(threshold))
        each, together = scores(params, parts)
        # Precision counts twice (F0.5): two events shown as one hide a story from the reader, where
        # one event shown twice only repeats it.
        p, r = together.precision, together.recall
        value = 1.25 * p * r / (0.25 * p + r) if p + r else 0.0
        if not quiet:
            print(
                f"  threshold {threshold:5.2f}: "
                + "  ".join(f"{n} {s:.3f}" for n, s in each.items())
                + f"  all {together}  F0.5 {value:.3f}"
            )
        # Of two thresholds that do as well, the stricter (later) one: the reader's side again.
        if value >= best - 0.005:
            chosen = params
        best = max(best, value)
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", nargs="+", default=list(DEVELOPMENT))
    parser.add_argument("--c", type=float, default=1.0, help="inverse regularisation strength")
    parser.add_argument("--cv", action="store_true", help="first score each part with weights fitted on the others")
    args = parser.parse_args()
    parts = {name: load_part(name) for name in args.parts}
    if args.cv:
        # Each part scored by weights fitted on the others: how well the method carries to new stories.
        left_out = {}
        for name, data in parts.items():
            params = fit({n: d for n, d in parts.items() if n != name}, args.c, quiet=True)
            left_out[name] = scores(params, {name: data})[0][name]
        print(
            "left out: "
            + "  ".join(f"{n} {s:.3f}" for n, s in left_out.items())
            + f"  mean {np.mean(list(left_out.values())):.3f}"
        )
    chosen = fit(parts, args.c)
    print(
        f"event_weights: tuple[float, ...] = {chosen.event_weights}\n"
        f"event_bias: float = {chosen.event_bias}\nevent_threshold: float = {chosen.event_threshold}"
    )


if __name__ == "__main__":
    main()

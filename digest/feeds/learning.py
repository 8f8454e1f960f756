"""Retraining the learned tagging layer from the labelled stories and every editor's pin, and writing
its weights where tagging reads them (`digest retag --learn`).

The training itself is digest.tagging.train (pure); this module reads the pins and the pinned
stories' text from the database and the labelled stories from their JSON-lines file, and writes the
weights file whole or not at all.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from digest.db.engine import session_scope
from digest.failures import OperatorError
from digest.feeds import topic_store
from digest.tagging.learned import LearnedModel
from digest.tagging.rules import Ruleset
from digest.tagging.train import Example, examples_from_pins, read_examples, train_model


class ExamplesError(OperatorError):
    """The labelled stories' file is missing or wrong; the message names it and the line."""


@dataclass(frozen=True, slots=True)
class Learned:
    ruleset: Ruleset  # the rules with the new layer beside them
    examples: int  # labelled stories trained on
    pins: int  # editors' decisions trained on


def read_examples_file(path: Path) -> list[Example]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ExamplesError(f"{path}: labelled stories not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ExamplesError(f"{path}: cannot be read: {exc}") from None
    items = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ExamplesError(f"{path}, line {number}: not valid JSON: {exc.msg}") from None
            if not isinstance(items[-1], dict):
                raise ExamplesError(f"{path}, line {number}: expected a JSON object")
    try:
        return read_examples(items)
    except ValueError as exc:
        raise ExamplesError(f"{path}: {exc}") from None


def learn_from_pins(engine: Engine, ruleset: Ruleset, examples: list[Example], weights: Path) -> Learned:
    """Train the learned layer on ``examples`` and every stored pin, write it to ``weights``, and
    return the rules with it."""
    with session_scope(engine, read_only=True) as session:
        decisions = topic_store.all_manual_decisions(session)
        texts = topic_store.texts_of(session, decisions)
    pinned = examples_from_pins(ruleset, decisions, texts)
    about = {"trained": datetime.now(UTC).isoformat(timespec="seconds"), "rules": Path(ruleset.source).name}
    model = train_model(ruleset, [*examples, *pinned], about)
    write_model(model, weights)
    return Learned(replace(ruleset, learned=model), len(examples), sum(len(e.decided) for e in pinned))


def write_model(model: LearnedModel, path: Path) -> None:
    """Write the weights file whole: a crash leaves the old one in place."""
    text = json.dumps(model.to_json(), ensure_ascii=False, indent=1) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(handle, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(temporary, 0o644)  # readable like the rules file beside it (mkstemp makes it private)
        os.replace(temporary, path)
    except OSError as exc:
        raise OperatorError(f"{path}: cannot write the learned weights: {exc}") from None

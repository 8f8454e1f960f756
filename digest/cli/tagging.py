"""``digest tag`` (JSON lines through the tagger), ``digest retag`` and ``digest topics``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from digest.cli.context import AppContext, BadInput, counting_progress, pass_app, project_path

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from digest.tagging.rules import Ruleset

EXAMPLES = "config/tagging-examples.jsonl"  # the labelled stories shipped with the project

# The tagger, the ORM and rich are imported by the commands that use them ("topics" reads with Core).


@click.command()
@pass_app
def tag(app: AppContext) -> None:
    """Tag JSON lines from stdin: {"id", "title", "summary", "content"?} -> {"id", "topics", "why"}.

    One output line per input line, in order. A line that cannot be read gives
    {"line": N, "error": "..."} in its place; the other lines are still tagged.
    """
    from digest.tagging.tagger import tag_story

    ruleset = app.ruleset()
    out = sys.stdout
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            item = _read_item(line)
        except ValueError as exc:
            out.write(json.dumps({"line": number, "error": str(exc)}) + "\n")
            continue
        tagging = tag_story(ruleset, item["title"], item.get("summary") or "", item.get("content") or "")
        out.write(
            json.dumps({"id": item.get("id"), "topics": list(tagging.topics), "why": tagging.why}, ensure_ascii=False)
            + "\n"
        )
        out.flush()


def _read_item(line: str) -> dict[str, Any]:
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(item, dict):
        raise ValueError("expected a JSON object")
    for key in ("title", "summary", "content"):
        if key in item and item[key] is not None and not isinstance(item[key], str):
            raise ValueError(f"'{key}' must be a string")
    if not isinstance(item.get("title"), str):
        raise ValueError("missing 'title'")
    return item


@click.command()
@click.option(
    "--learn",
    is_flag=True,
    help="First retrain the learned layer from the labelled stories and every editor's pin, and write its weights.",
)
@click.option(
    "--examples",
    type=click.Path(path_type=Path, dir_okay=False),
    default=EXAMPLES,
    show_default=True,
    help="The labelled stories --learn trains on (JSON lines: title, summary, topics).",
)
@pass_app
def retag(app: AppContext, learn: bool, examples: Path) -> None:
    """Tag every stored story again with the current rules; editors' decisions are kept."""
    from digest.feeds.retag import retag_stories

    ruleset = app.ruleset()
    engine = app.engine()
    if learn:
        ruleset = _learn(app, engine, ruleset, project_path(str(examples)))
    with counting_progress(app.console, "tagging") as progress:
        task = progress.add_task("", total=None)
        report = retag_stories(
            engine,
            ruleset,
            total=lambda n: progress.update(task, total=n),
            advance=lambda n: progress.advance(task, n),
        )
    layer = " and the learned layer" if ruleset.learned is not None else ""
    click.echo(f"retagged {report.stories} stories with {ruleset.source}{layer}: {report.changed} changed")
    for topic in sorted(set(report.gained) | set(report.lost)):
        click.echo(f"  {topic}: +{report.gained[topic]} gained, -{report.lost[topic]} lost")


def _learn(app: AppContext, engine: Engine, ruleset: Ruleset, examples: Path) -> Ruleset:
    from digest.feeds.learning import learn_from_pins, read_examples_file

    weights = app.learned_path()
    if weights is None:
        raise BadInput('the learned layer is turned off (learned_file = ""): set learned_file to use --learn')
    labelled = read_examples_file(examples)
    with app.console.status("training the learned layer"):
        learned = learn_from_pins(engine, ruleset, labelled, weights)
    click.echo(
        f"learned from {learned.examples} labelled stories and {learned.pins} editors' decisions; "
        f"weights written to {weights}"
    )
    app.forget_ruleset()
    return learned.ruleset


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for other tools.")
@pass_app
def topics(app: AppContext, as_json: bool) -> None:
    """The configured topics and how many stories carry each."""
    from digest.feeds.light_store import count_by_topic

    names = app.topic_names()
    with app.reading() as reader:
        counts = count_by_topic(reader)
    rows = [
        {"slug": t.slug, "name": t.name, "description": t.description, "stories": counts.get(t.slug, 0)} for t in names
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    from digest.cli.tables import show_table

    cells = [[str(row["slug"]), str(row["name"]), str(row["stories"]), str(row["description"])] for row in rows]
    show_table(app, ("slug", "name", "stories", "description"), cells)

"""``digest tagging suggest|apply``: rule changes proposed from editors' corrections, and applying one."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from digest.cli.context import AppContext, counting_progress, pass_app
from digest.feeds.proposals import Proposals, apply_stored_proposal, find_proposals, pick_proposal
from digest.tagging.suggest import Proposal

SHOWN = 5  # stories listed per kind of change in the plain output (--json lists them all)


@click.group()
def tagging() -> None:
    """Learning from editors: rule changes proposed from their corrections, and applying one."""


@tagging.command("suggest")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100), help="How many proposals.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for other tools.")
@pass_app
def suggest(app: AppContext, limit: int, as_json: bool) -> None:
    """Rule changes proposed from editors' pins, with the stories each changes."""
    found = find_proposals(app.engine(), app.ruleset(), limit=limit)
    if as_json:
        click.echo(json.dumps([proposal_json(p, found) for p in found.proposals], indent=2, ensure_ascii=False))
        return
    if not found.proposals:
        click.echo(
            f"no proposals from {found.corrections} editors' decisions: "
            "the rules already agree with them, or no change helps more than one story"
        )
        return
    click.echo(f"{len(found.proposals)} proposals from {found.corrections} editors' decisions (best first):")
    for number, proposal in enumerate(found.proposals, start=1):
        click.echo(f"\n{number}. [{proposal.key}] {proposal.describe()}")
        for label, ids in (
            ("fixes", proposal.fixes),
            ("goes against editors on", proposal.undoes),
            ("also changes (nobody decided)", proposal.others),
        ):
            if ids:
                click.echo(f"   {label}: {len(ids)}")
                for story_id in ids[:SHOWN]:
                    click.echo(f"     #{story_id} {found.titles.get(story_id, '')[:90]}")
    click.echo("\napply one with: digest tagging apply KEY")


@tagging.command("apply")
@click.argument("key")
@click.option("--no-retag", is_flag=True, help="Only change the rules file; run 'digest retag' later.")
@pass_app
def apply(app: AppContext, key: str, no_retag: bool) -> None:
    """Write one proposal (by its key from 'suggest') into the rules file, then re-tag every story."""
    ruleset = app.ruleset()
    proposal = pick_proposal(app.engine(), ruleset, key)
    with counting_progress(app.console, "re-tagging") as progress:
        task = progress.add_task("", total=None)
        applied = apply_stored_proposal(
            app.engine(),
            ruleset,
            proposal,
            datetime.now(UTC).date(),
            retag=not no_retag,
            progress=lambda n: progress.advance(task, n),
        )
    click.echo(f"applied [{applied.proposal.key}] to {ruleset.source}: {applied.proposal.describe()}")
    if applied.report is not None:
        report = applied.report
        click.echo(f"retagged {report.stories} stories: {report.changed} changed")
        for topic in sorted(set(report.gained) | set(report.lost)):
            click.echo(f"  {topic}: +{report.gained[topic]} gained, -{report.lost[topic]} lost")
    else:
        click.echo("run 'digest retag' to apply it to the stored stories")
    if ruleset.learned is not None:
        # The layer's weights were trained beside the rules as they were before this change.
        click.echo("the learned layer was trained beside the old rules: run 'digest retag --learn' to retrain it")


def proposal_json(proposal: Proposal, found: Proposals) -> dict[str, object]:
    def stories(ids: tuple[int, ...]) -> list[dict[str, object]]:
        return [{"id": i, "title": found.titles.get(i, "")} for i in ids]

    return {
        "key": proposal.key,
        "kind": proposal.kind,
        "topic": proposal.topic,
        "phrase": proposal.phrase,
        "weight": proposal.weight,
        "description": proposal.describe(),
        "score": proposal.score,
        "fixes": stories(proposal.fixes),
        "undoes": stories(proposal.undoes),
        "gains": stories(proposal.gains),
        "loses": stories(proposal.loses),
        "others": stories(proposal.others),
    }

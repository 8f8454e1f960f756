"""``digest editions``: the edition desk from the command line, for operators and scripts.

EDITION is "2026-12-01" (daily) or "2026-W49" (weekly); without one, the current daily edition.
Decisions are recorded in the edition's audit list as made by "cli:<user>" unless --editor says who.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from digest.cli.context import AppContext, BadInput, pass_app, session_scope
from digest.digests.editions import BadEditionName, edition_for, parse_edition

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from digest.digests.edition_models import Edition

# The ORM, the edition desk's decisions and its full view are imported by the commands that use
# them: "editions list" reads with Core statements only.

EDITION_HELP = "The edition: 2026-12-01 (daily) or 2026-W49 (weekly); default: the current daily one."


def _key(app: AppContext, name: str | None) -> str:
    if name is None:
        return edition_for("daily", datetime.now(UTC), app.settings.digest.timezone)
    try:
        return parse_edition(name)
    except BadEditionName as exc:
        raise BadInput(str(exc)) from None


def _who(editor: str | None) -> str:
    return editor or f"cli:{getpass.getuser()}"


def _decide(app: AppContext, action: Callable[[Session], Edition]) -> Edition:
    from digest.digests import review
    from digest.digests.notes import BadNote

    try:
        with session_scope(app.engine()) as session:
            return action(session)
    except (review.EditionError, BadNote) as exc:
        raise BadInput(str(exc)) from None


@click.group()
def editions() -> None:
    """Editions: state, lead, notes, exclusions, approval."""


@editions.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_app
def list_(app: AppContext, as_json: bool) -> None:
    """The current editions and every stored one, with their state and deliveries."""
    from digest.digests.edition_list import list_editions_view

    with app.reading() as reader:
        rows = list_editions_view(reader, app.settings, datetime.now(UTC))
    for row in rows:
        if as_json:
            click.echo(json.dumps(row))
        else:
            counts = ", ".join(f"{n} {state}" for state, n in row["deliveries"].items() if n) or "no deliveries"
            click.echo(f"{row['edition']}\t{row['frequency']}\t{row['state']}\t{counts}")


@editions.command()
@click.argument("edition", required=False)
@click.option("--json", "as_json", is_flag=True, help="The whole edition as one JSON object.")
@pass_app
def show(app: AppContext, edition: str | None, as_json: bool) -> None:
    """State, stories per topic, readers per topic group, lead, notes, deliveries and failures."""
    key = _key(app, edition)
    from digest.digests.edition_view import edition_view

    with session_scope(app.engine()) as session:
        view = edition_view(session, app.settings, app.ruleset(), key, datetime.now(UTC))
    if as_json:
        click.echo(json.dumps(view, indent=2))
        return
    _print_view(view)


def _print_view(view: dict[str, Any]) -> None:
    echo = click.echo
    echo(f"edition {view['edition']} ({view['frequency']}, {view['label']}): {view['state']}")
    if view["review_deadline"]:
        echo(f"review deadline: {view['review_deadline']}")
    echo(f"lead: {view['lead']['id']} {view['lead']['title']}" if view["lead"] else "lead: none")
    for topic, body in view["notes"].items():
        echo(f"note ({topic}):\n  " + body.replace("\n", "\n  "))
    for group in view["topics"]:
        echo(f"\n{group['name']} ({len(group['stories'])} stories)")
        for story in group["stories"]:
            flags = " [lead]" if story["lead"] else ""
            if story["excluded"]:
                flags += " [excluded, kept for next]" if story["kept_for_next"] else " [excluded]"
            echo(f"  {story['id']}\t{story['title']}{flags}")
    echo("\nreaders per topic group:")
    for group in view["readers"] or [{"names": ["none"], "readers": 0}]:
        echo(f"  {' + '.join(group['names'])}: {group['readers']}")
    counts = view["deliveries"]
    echo("\ndeliveries: " + ", ".join(f"{state} {counts[state]}" for state in counts))
    for failure in view["failures"]:
        echo(f"  {failure['state']}\t{failure['email']}\t{failure['answer']}")
    if view["decisions"]:
        echo("\ndecisions:")
        for d in view["decisions"]:
            after = f" (after {d['sent_before']} digests were sent)" if d["sent_before"] else ""
            echo(f"  {d['at']}\t{d['editor']}\t{d['action']}\t{d['detail']}{after}")


def _done(edition: Edition, what: str) -> None:
    click.echo(f"edition {edition.key.partition(':')[2]}: {what} (now {edition.state})")


@editions.command()
@click.argument("story_id", type=int)
@click.option("--edition", "name", help=EDITION_HELP)
@click.option("--keep-for-next", is_flag=True, help="Offer the story again in the next edition.")
@click.option("--editor", help="Who decides (for the audit list).")
@pass_app
def exclude(app: AppContext, story_id: int, name: str | None, keep_for_next: bool, editor: str | None) -> None:
    """Send this story to nobody in the edition."""
    key, now = _key(app, name), datetime.now(UTC)
    from digest.digests import review

    done = _decide(app, lambda s: review.exclude(s, key, story_id, _who(editor), now, keep_for_next=keep_for_next))
    _done(done, f"story {story_id} excluded" + (", kept for the next edition" if keep_for_next else ""))


@editions.command()
@click.argument("story_id", type=int)
@click.option("--edition", "name", help=EDITION_HELP)
@click.option("--editor", help="Who decides (for the audit list).")
@pass_app
def include(app: AppContext, story_id: int, name: str | None, editor: str | None) -> None:
    """Undo an exclusion."""
    key, now = _key(app, name), datetime.now(UTC)
    from digest.digests import review

    done = _decide(app, lambda s: review.include(s, key, story_id, _who(editor), now))
    _done(done, f"story {story_id} included again")


@editions.command()
@click.argument("story_id", type=int)
@click.option("--edition", "name", help=EDITION_HELP)
@click.option("--editor", help="Who decides (for the audit list).")
@pass_app
def lead(app: AppContext, story_id: int, name: str | None, editor: str | None) -> None:
    """Make this story the lead: first, and larger, in every digest that contains it (0: no lead)."""
    key, now = _key(app, name), datetime.now(UTC)
    from digest.digests import review

    done = _decide(app, lambda s: review.set_lead(s, key, story_id or None, _who(editor), now))
    _done(done, f"story {story_id} leads" if story_id else "no lead story")


@editions.command()
@click.argument("text", required=False)
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path), help="Read the note from a file.")
@click.option("--topic", help="The note of one topic's section instead of the whole edition.")
@click.option("--edition", "name", help=EDITION_HELP)
@click.option("--editor", help="Who decides (for the audit list).")
@pass_app
def note(
    app: AppContext, text: str | None, path: Path | None, topic: str | None, name: str | None, editor: str | None
) -> None:
    """The editor's note (Markdown); an empty one removes it."""
    if (text is None) == (path is None):
        raise BadInput("give the note as TEXT or with --file FILE (one of them)")
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(f"cannot read {path}: {exc}") from None
    key, now, slugs = _key(app, name), datetime.now(UTC), list(app.ruleset().slugs)
    from digest.digests import review

    done = _decide(app, lambda s: review.set_note(s, key, topic, text or "", _who(editor), now, slugs))
    _done(done, f"note for {topic or 'the whole edition'} saved")


@editions.command()
@click.argument("edition", required=False)
@click.option("--editor", help="Who decides (for the audit list).")
@pass_app
def approve(app: AppContext, edition: str | None, editor: str | None) -> None:
    """Let the edition go out (at the next send or retry tick)."""
    key, now = _key(app, edition), datetime.now(UTC)
    from digest.digests import review

    _done(_decide(app, lambda s: review.approve(s, key, _who(editor), now)), "approved")


@editions.command()
@click.argument("edition", required=False)
@click.option("--editor", help="Who decides (for the audit list).")
@pass_app
def hold(app: AppContext, edition: str | None, editor: str | None) -> None:
    """Stop the edition: nothing more of it is sent until it is approved."""
    key, now = _key(app, edition), datetime.now(UTC)
    from digest.digests import review

    _done(_decide(app, lambda s: review.hold(s, key, _who(editor), now)), "held")

"""The ``digest`` command: global options, logging, and the command groups of each domain.

Each command's module is imported only when that command runs, so ``digest --help`` and the light
commands answer at once: the web app (FastAPI, uvicorn), Alembic, argon2, the feed fetcher and the
renderer are loaded by the commands that use them. The list below therefore also carries each
command's one-line help, shown by ``digest --help`` without importing anything (a test checks it
matches the command's own docstring).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import click

from digest import __version__
from digest.cli.context import AppContext, DigestGroup

COMMANDS: Mapping[str, tuple[str, str]] = {
    "bounces": ("digest.cli.bounces:bounces", "Bounces and complaints: process files, serve LMTP, fetch from IMAP."),
    "db": ("digest.cli.db:db", "The database schema."),
    "demo": ("digest.cli.demo:demo", "Run the pipeline end to end on the bundled sample feeds and sample subscribers."),
    "editions": ("digest.cli.editions:editions", "Editions: state, lead, notes, exclusions, approval."),
    "editors": ("digest.cli.editors:editors", "Who may sign in to the editor console."),
    "events": (
        "digest.cli.events:events",
        "Events and threads: group JSON lines from stdin, or list, regroup, merge and split stored ones.",
    ),
    "feeds": ("digest.cli.feeds:feeds", "The feeds digest polls."),
    "health": (
        "digest.cli.health:health",
        "Check the database, its schema and the mail setting: one line, exit 0 when ready, 1 when not.",
    ),
    "poll": ("digest.cli.feeds:poll", "Poll every due feed once and store new stories."),
    "preview": (
        "digest.cli.digests:preview",
        "A reader's next digest, or a topic group's, as it would go out now; nothing is sent or marked.",
    ),
    "retag": (
        "digest.cli.tagging:retag",
        "Tag every stored story again with the current rules; editors' decisions are kept.",
    ),
    "run": ("digest.cli.run:run", "Run the scheduler until SIGTERM or Ctrl-C; one log line per job run."),
    "send": (
        "digest.cli.digests:send",
        "Deliver the current edition to every confirmed subscriber who has not received it.",
    ),
    "serve": ("digest.cli.serve:serve", "Serve the sign-up, preferences and unsubscribe pages."),
    "stories": ("digest.cli.stories:stories", "The stories found in the feeds."),
    "subscribers": ("digest.cli.subscribers:subscribers", "The people who get digests."),
    "tag": (
        "digest.cli.tagging:tag",
        'Tag JSON lines from stdin: {"id", "title", "summary", "content"?} -> {"id", "topics", "why"}.',
    ),
    "tokens": ("digest.cli.tokens:tokens", "Bearer tokens for the JSON API (scopes: read < subscribers < admin)."),
    "tagging": (
        "digest.cli.proposals:tagging",
        "Learning from editors: rule changes proposed from their corrections, and applying one.",
    ),
    "topics": ("digest.cli.tagging:topics", "The configured topics and how many stories carry each."),
}


class LazyGroup(DigestGroup):
    """A group whose commands (named in ``COMMANDS``) are imported when they are run or asked for."""

    def __init__(self, *args: Any, lazy: Mapping[str, tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or COMMANDS)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            module, _, attribute = self.lazy[cmd_name][0].partition(":")
            command = getattr(importlib.import_module(module), attribute)
            assert isinstance(command, click.Command)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The one-line helps of commands not yet imported come from the list, not from their modules.
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            # A stand-in carrying the listed help, so click shortens it exactly as it would the real one.
            command = self.commands.get(name) or click.Command(name, help=self.lazy[name][1])
            if not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="digest")
@click.option("-v", "--verbose", count=True, help="Log what happens (-v: each step, -vv: debug).")
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """Topic digests of cybersecurity-law news."""
    from digest.config import load_settings
    from digest.logs import configure_logging

    settings = load_settings()
    ctx.call_on_close(configure_logging(settings.logging, verbose))
    app = AppContext(settings=settings, verbose=verbose)
    ctx.obj = app
    ctx.call_on_close(app.close)


def main() -> None:
    cli(prog_name="digest")

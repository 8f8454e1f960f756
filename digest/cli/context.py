"""What every command shares: settings loaded once, an engine made on first use, clean error exits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine

from digest.config import ConfigError, Settings
from digest.db.engine import make_engine
from digest.db.migrate import SchemaError, check_schema
from digest.tagging.rules import RulesError, Ruleset, load_rules

PROJECT = Path(__file__).resolve().parents[2]


class UserError(click.ClickException):
    """An error people can fix; printed as one line, never as a traceback."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class BadInput(UserError):
    """Wrong words on the command line or in the configuration: exit status 2, like a usage error."""

    exit_code = 2


@dataclass
class AppContext:
    settings: Settings
    console: Console = field(default_factory=Console)
    _engine: Engine | None = None
    _ruleset: Ruleset | None = None

    def engine(self, *, require_schema: bool = True) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
        if require_schema:
            check_schema(self._engine)
        return self._engine

    def ruleset(self) -> Ruleset:
        if self._ruleset is None:
            path = Path(self.settings.topics_file)
            if not path.is_absolute() and not path.exists() and (PROJECT / path).exists():
                path = PROJECT / path  # run from another folder: the project's own rules
            self._ruleset = load_rules(path)
        return self._ruleset

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


class DigestGroup(click.Group):
    """A command group that reports configuration and schema problems as plain messages."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise BadInput(str(exc)) from None
        except SchemaError as exc:
            raise UserError(str(exc)) from None
        except RulesError as exc:
            raise BadInput(str(exc)) from None


pass_app = click.make_pass_decorator(AppContext)


def counting_progress(console: Console, label: str, *, show_item: bool = False) -> Progress:
    """The progress bar of long commands: a label, a bar, done/total, elapsed time (and the current item)."""
    columns: list[ProgressColumn] = [TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    if show_item:
        columns.append(TextColumn("{task.description}"))
    return Progress(*columns, console=console, transient=True)

"""What every command shares: settings loaded once, an engine made on first use, clean error exits.

This module is imported by every command, so it imports nothing heavy itself: the console, the
database engine (or, for the light commands, a reader without SQLAlchemy) and the rules are made
when a command first asks for them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from digest.failures import OperatorError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress
    from sqlalchemy import Connection, Engine
    from sqlalchemy.orm import Session

    from digest.config import Settings
    from digest.db.light import Reader
    from digest.tagging.rules import Ruleset
    from digest.tagging.topic_names import TopicName

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
    verbose: int = 0
    _console: Console | None = None
    _engine: Engine | None = None
    _schema_checked: bool = False
    _models_loaded: bool = False
    _ruleset: Ruleset | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console()
        return self._console

    @contextmanager
    def reading(self) -> Iterator[Reader]:
        """One read-only transaction through the database driver itself, the schema checked first.

        The light commands read this way: neither SQLAlchemy nor the ORM and its models are loaded,
        which is most of what their start-up would otherwise cost."""
        from digest.db.light import read_database
        from digest.db.revisions import check_revision
        from digest.db.urls import describe_url

        url = self.settings.database_url
        with read_database(url) as reader:
            check_revision(reader, describe_url(url))
            yield reader

    def engine(self, *, require_schema: bool = True) -> Engine:
        """The database, connected and checked, with every model loaded."""
        from digest.db.engine import check_connection, make_engine
        from digest.db.migrate import check_schema

        if not self._models_loaded:
            from digest.db.models import import_all_models

            # Every model, so relationships across domains resolve whichever command runs.
            import_all_models()
            self._models_loaded = True
        if self._engine is None:
            engine = make_engine(self.settings.database_url)
            try:
                check_connection(engine)
            except OperatorError:
                engine.dispose()
                raise
            self._engine = engine
        if require_schema and not self._schema_checked:
            check_schema(self._engine)
            self._schema_checked = True
        return self._engine

    def ruleset(self) -> Ruleset:
        """The rules, with the learned layer beside them when its weights file exists."""
        from dataclasses import replace

        from digest.tagging.learned import load_model, trained_beside
        from digest.tagging.rules import load_rules

        if self._ruleset is None:
            ruleset = load_rules(self.topics_path())
            learned = self.learned_path()
            if learned is not None and learned.exists():
                model = load_model(learned)
                if not trained_beside(model, ruleset.fingerprint):
                    # Still used (it was right for most stories before the edit), but the operator
                    # should know its verdicts assume other rules.
                    logging.getLogger("digest.tagging").warning(
                        "%s was trained beside other rules than %s: run 'digest retag --learn' to retrain it",
                        learned,
                        self.topics_path(),
                    )
                ruleset = replace(ruleset, learned=model)
            self._ruleset = ruleset
        return self._ruleset

    def learned_path(self) -> Path | None:
        """Where the learned layer's weights are read and written; None when it is turned off."""
        return project_path(self.settings.learned_file) if self.settings.learned_file else None

    def forget_ruleset(self) -> None:
        """Read the rules and weights again at the next ruleset() (they were just rewritten)."""
        self._ruleset = None

    def topic_names(self) -> tuple[TopicName, ...]:
        """The topics' slugs, names and descriptions, without compiling the rules (light commands)."""
        from digest.tagging.topic_names import read_topic_names

        return read_topic_names(self.topics_path())

    def topics_path(self) -> Path:
        return project_path(self.settings.topics_file)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


@contextmanager
def session_scope(bind: Engine | Connection, *, read_only: bool = False) -> Iterator[Session]:
    """``digest.db.engine.session_scope``, imported when a command first opens a session: the modules
    of the light commands hold heavier ones too, and importing them must not load SQLAlchemy."""
    from digest.db.engine import session_scope as scope

    with scope(bind, read_only=read_only) as session:
        yield session


def project_path(name: str) -> Path:
    """A configured file: as given, or, run from another folder, the project's own."""
    path = Path(name)
    if not path.is_absolute() and not path.exists() and (PROJECT / path).exists():
        return PROJECT / path
    return path


class DigestGroup(click.Group):
    """A command group that reports operators' mistakes (settings, database, mail server, rules) as
    plain messages with exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OperatorError as exc:
            raise BadInput(str(exc)) from None


pass_app = click.make_pass_decorator(AppContext)


def counting_progress(console: Console, label: str, *, show_item: bool = False) -> Progress:
    """The progress bar of long commands: a label, a bar, done/total, elapsed time (and the current item)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn

    columns: list[ProgressColumn] = [TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    if show_item:
        columns.append(TextColumn("{task.description}"))
    return Progress(*columns, console=console, transient=True)

"""Tables of the list commands: drawn by rich at a terminal, plain aligned columns anywhere else.

Importing rich and drawing with it costs a light command about a fifth of its time, for boxes that a
pipe, a file or another tool has no use for; so rich is loaded only when people will see the table.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from digest.cli.context import AppContext


def show_table(app: AppContext, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    if sys.stdout.isatty():
        from rich.table import Table

        table = Table(*headers)
        for row in rows:
            table.add_row(*row)
        app.console.print(table)
        return
    # One line per row, so each can be read by grep and friends; the last column is not padded.
    cells = [[" ".join(cell.split()) for cell in row] for row in [list(headers), *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)) + "  " + row[-1])

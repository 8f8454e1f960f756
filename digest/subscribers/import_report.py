"""How an import's outcome is told to people, the same on the command line and in the console."""

from __future__ import annotations

from dataclasses import dataclass

from digest.subscribers.importer import ImportReport


@dataclass(frozen=True, slots=True)
class ImportLines:
    skipped: list[str]  # rows left out on purpose (suppressed, already on the list)
    errors: list[str]  # rows that could not be read, by line number
    summary: str


def describe_import(report: ImportReport) -> ImportLines:
    return ImportLines(
        skipped=[f"line {line}: skipped: {reason}" for line, reason in report.skipped],
        errors=[f"line {line}: error: {problem}" for line, problem in report.errors],
        summary=f"imported {report.added}, skipped {len(report.skipped)}, {len(report.errors)} bad rows",
    )

"""How an import's outcome is told to people, the same on the command line and in the console."""

from __future__ import annotations

from dataclasses import dataclass

from digest.subscribers.importer import ImportReport


@dataclass(frozen=True, slots=True)
class ImportLines:
    skipped: list[str]  # rows left out on purpose (suppressed, already on the list)
    errors: list[str]  # rows that could not be read, by line number
    summary: str


PRESENT_SHOWN = 10  # rows already on the list named one by one; the rest are only counted


def describe_import(report: ImportReport) -> ImportLines:
    skipped = [
        f"line {line}: skipped: {reason}"
        for line, reason in sorted(report.refused + report.present_lines[:PRESENT_SHOWN])
    ]
    if report.present > PRESENT_SHOWN:
        skipped.append(f"... and {report.present - PRESENT_SHOWN} more rows already on the list")
    errors = [f"line {line}: error: {problem}" for line, problem in report.errors]
    if report.error_count > len(report.errors):
        errors.append(f"... and {report.error_count - len(report.errors)} more bad rows")
    summary = f"imported {report.added}, skipped {report.skipped_count}, {report.error_count} bad rows"
    if report.present:
        summary += f" ({report.present} already on the list, left as they were)"
    return ImportLines(skipped=skipped, errors=errors, summary=summary)

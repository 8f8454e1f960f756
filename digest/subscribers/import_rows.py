"""Reading the rows of a subscriber CSV: our columns or listmonk's export, checked one row at a time.

Our CSV has the columns email, topics, frequency, confirmed. listmonk's export has uuid, email, name,
attributes, status, created_at, updated_at; topics and frequency come from the attributes JSON
("topics", "frequency") or else from the defaults given to the import. Every row is checked here
(address, topics, frequency, the confirmed flag) without a database, so a bad row is reported with
its line number and the rows around it still go in.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import TextIO

from digest.subscribers.addresses import InvalidEmail, normalise_email
from digest.subscribers.signup import InvalidChoice, check_choice

OURS = ("email", "topics", "frequency", "confirmed")
LISTMONK = ("uuid", "email", "name", "attributes", "status")
_TOPIC_SPLIT = re.compile(r"[;,|\s]+")
_TRUE = {"true", "yes", "1", "y", "confirmed"}
_FALSE = {"false", "no", "0", "n", "", "pending", "unconfirmed"}
UNREADABLE = "\ufffd"  # what the text stream puts in place of bytes its encoding cannot read


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    email: str  # normalised
    topics: tuple[str, ...]  # checked against the ruleset, sorted
    frequency: str
    confirmed: bool
    source: str  # "csv", "listmonk:enabled", "listmonk:disabled", "listmonk:blocklisted"


Problem = Callable[[int, str], None]  # (line, what is wrong)


def read_rows(
    text: TextIO,
    known_topics: Collection[str],
    default_topics: Collection[str],
    frequency: str,
    problem: Problem,
    encoding_label: str = "UTF-8",
) -> Iterator[Row]:
    """Every good row in file order; each bad one goes to ``problem`` instead."""
    reader = csv.reader(text)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        problem(1, "the file is empty")
        return
    except csv.Error as exc:
        problem(1, f"not a CSV file: {exc}")
        return
    if all(column in header for column in LISTMONK):
        parse = _listmonk_row
    elif "email" in header:
        parse = _our_row
        if "topics" not in header and not default_topics:
            problem(1, "no 'topics' column and no default topics given")
            return
    else:
        problem(1, f"unknown columns {header}: expected {', '.join(OURS)} or a listmonk export")
        return
    index = {name: i for i, name in enumerate(header)}
    defaults = list(default_topics)
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problem(reader.line_num, f"unreadable CSV: {exc}")
            continue
        if not any(v.strip() for v in values):
            continue
        line = reader.line_num
        cell = {name: (values[i].strip() if i < len(values) else "") for name, i in index.items()}
        if UNREADABLE in cell["email"]:
            problem(line, f"the address has characters that cannot be read as {encoding_label}")
            continue
        try:
            yield parse(line, cell, known_topics, defaults, frequency)
        except (ValueError, InvalidEmail, InvalidChoice) as exc:
            problem(line, str(exc))


def _our_row(line: int, cell: dict[str, str], known: Collection[str], defaults: list[str], frequency: str) -> Row:
    confirmed = cell.get("confirmed", "").lower()
    if confirmed not in _TRUE | _FALSE:
        raise ValueError(f"'confirmed' must be true or false, not '{cell['confirmed']}'")
    email = normalise_email(cell["email"])
    topics = [t for t in _TOPIC_SPLIT.split(cell.get("topics", "")) if t] or defaults
    chosen, frequency = check_choice(topics, cell.get("frequency") or frequency, known)
    return Row(line, email, tuple(chosen), frequency, confirmed in _TRUE, "csv")


def _listmonk_row(line: int, cell: dict[str, str], known: Collection[str], defaults: list[str], frequency: str) -> Row:
    try:
        attributes = json.loads(cell["attributes"]) if cell["attributes"] else {}
    except json.JSONDecodeError:
        raise ValueError("'attributes' is not valid JSON") from None
    if not isinstance(attributes, dict):
        attributes = {}
    status = cell["status"].lower()
    if status not in ("enabled", "disabled", "blocklisted"):
        raise ValueError(f"unknown listmonk status '{cell['status']}'")
    email = normalise_email(cell["email"])
    if status != "enabled":  # never added, so their topics do not matter
        return Row(line, email, (), frequency, False, f"listmonk:{status}")
    topics = attributes.get("topics", defaults)
    if isinstance(topics, str):
        topics = [t for t in _TOPIC_SPLIT.split(topics) if t]
    if not isinstance(topics, list):
        raise ValueError("'topics' in the attributes must be a list or a string")
    chosen, frequency = check_choice([str(t) for t in topics], str(attributes.get("frequency") or frequency), known)
    return Row(line, email, tuple(chosen), frequency, True, "listmonk:enabled")

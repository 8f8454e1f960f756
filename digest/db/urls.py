"""Database URLs read without SQLAlchemy: which backend, which file, where, and what went wrong there.

Both ways of reaching the database use these: the engine (SQLAlchemy, for the commands that write)
and the light reader (the drivers themselves, for the commands that must answer at once), so a
database that cannot be reached is described in the same words whichever command met it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from digest.failures import OperatorError, describe_error


class DatabaseUnavailable(OperatorError):
    """The database cannot be reached or opened; the message says which one and why, in words."""


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    url: str
    backend: str  # "sqlite" or "postgresql"
    database: str | None  # the SQLite file (None or ":memory:": in memory), or the PostgreSQL database
    host: str | None = None
    port: int | None = None

    @property
    def in_memory(self) -> bool:
        return self.backend == "sqlite" and self.database in (None, "", ":memory:")

    def libpq(self) -> str:
        """The URL as libpq (and so psycopg) takes it: without SQLAlchemy's ``+driver``."""
        return "postgresql://" + self.url.partition("://")[2]


def parse_url(url: str) -> DatabaseUrl:
    """Split a URL the settings accepted (``sqlite:///path`` or ``postgresql+psycopg://...``)."""
    scheme, _, rest = url.partition("://")
    backend = scheme.lower().partition("+")[0]
    if backend == "sqlite":
        # As SQLAlchemy reads it: what follows the third slash is the path ("////" for an absolute one).
        path = rest.partition("?")[0]
        return DatabaseUrl(url, "sqlite", path[1:] if path.startswith("/") else (path or None))
    parts = urlsplit(url)
    database = unquote(parts.path.lstrip("/")) or None
    return DatabaseUrl(url, "postgresql", database, parts.hostname, parts.port)


def describe_url(url: str) -> str:
    """The database URL with any password hidden, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user, _, host = parts.netloc.rpartition("@")
    name = user.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{name}:***@{host}"))


def make_sqlite_folder(database: str) -> None:
    """Make the folder of a SQLite file, as the first command on a fresh installation needs."""
    folder = Path(database).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        why = "a file of that name is in the way" if isinstance(exc, FileExistsError) else describe_error(exc)
        message = f"cannot make the folder {folder} for the SQLite database {database}: {why}"
        raise DatabaseUnavailable(message) from None


def connection_problem(url: str, text: str, kind: str = "") -> str:
    """What went wrong connecting, in words, from the driver's message ``text`` (``kind``: its error's
    class name, said when the driver gave no text); the driver's own words only when nothing better
    is known."""
    parsed = parse_url(url)
    if parsed.backend == "sqlite":
        folder = Path(parsed.database or ".").parent
        return f"cannot open the SQLite database {parsed.database}: {text} (is the folder {folder} writable?)"
    where = describe_url(url)
    server = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    missing = re.search(r'database "([^"]+)" does not exist', text)
    if missing:
        return f"the database '{missing.group(1)}' does not exist on the server {server}: create it first"
    role = re.search(r'role "([^"]+)" does not exist', text)
    if role:
        return f"the server {server} has no user '{role.group(1)}' (database URL {where})"
    for pattern, words in _PG_WORDS:
        if re.search(pattern, text, re.IGNORECASE):
            return f"cannot connect to the database {where}: {words}"
    first = text.strip().splitlines()[0] if text.strip() else kind
    return f"cannot connect to the database {where}: {first}"


_PG_WORDS = [
    (r"connection refused", "connection refused (is PostgreSQL running there?)"),
    (r"could not translate host name|name or service not known|nodename nor servname", "name not found"),
    (r"timeout expired|timed out", "timed out"),
    (r"password authentication failed|no password supplied", "password refused"),
    (r"no pg_hba\.conf entry", "the server does not accept this client (pg_hba.conf)"),
    (r"no route to host", "host unreachable"),
]

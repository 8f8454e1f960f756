"""Loading the settings: built-in defaults < the TOML file < environment variables, checked as one.

Every mistake is reported in one message that names where it came from (the file, or the
environment variable that set it) and what would do, with every wrong key at once.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from digest.config.fields import InvalidSettings
from digest.config.settings import Settings
from digest.failures import OperatorError

ENV_PREFIX = "DIGEST_"
DEFAULT_CONFIG_PATH = Path("config/digest.toml")


class ConfigError(OperatorError):
    """A setting is missing, unknown or of the wrong kind; the message names where and what."""


def load_settings(environ: Mapping[str, str] | None = None, path: Path | None = None) -> Settings:
    """Merge defaults, the TOML file and the environment into one validated ``Settings``."""
    env = os.environ if environ is None else environ
    if path is None:
        explicit = env.get(f"{ENV_PREFIX}CONFIG")
        path = Path(explicit) if explicit else DEFAULT_CONFIG_PATH
        required = bool(explicit)
    else:
        required = True

    data: dict[str, Any] = {}
    origin: dict[tuple[str, ...], str] = {}
    if path.exists():
        data = _read_toml(path)
        for key_path in _leaf_paths(data):
            origin[key_path] = str(path)
    elif required:
        raise ConfigError(f"{path}: config file not found (named by {ENV_PREFIX}CONFIG)")

    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name == f"{ENV_PREFIX}CONFIG":
            continue
        key_path = tuple(part.lower() for part in name[len(ENV_PREFIX) :].split("__"))
        if not all(key_path):
            raise ConfigError(f"environment variable {name}: empty key part in the name")
        _set_path(data, key_path, value, name)
        origin[key_path] = f"environment variable {name}"

    try:
        return Settings.from_mapping(data)
    except InvalidSettings as exc:
        raise ConfigError(_describe(exc, origin, path)) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None


def _leaf_paths(data: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []
    for key, value in data.items():
        if isinstance(value, Mapping):
            paths.extend(_leaf_paths(value, (*prefix, key)))
        paths.append((*prefix, key))
    return paths


def _set_path(data: dict[str, Any], key_path: tuple[str, ...], value: str, env_name: str) -> None:
    node = data
    for part in key_path[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"environment variable {env_name}: '{part}' is a value, not a section")
        node = child
    node[key_path[-1]] = value


def _describe(exc: InvalidSettings, origin: Mapping[tuple[str, ...], str], path: Path) -> str:
    lines = []
    for problem in exc.problems:
        where = _origin_of(problem.path, origin, path)
        key = ".".join(problem.path)
        if problem.kind == "unknown":
            lines.append(f"{where}: unknown setting '{key}'")
        elif problem.kind == "refused":
            # The checks' own messages already say what was given and what would do.
            lines.append(f"{where}: setting '{key}': {problem.message}")
        else:
            lines.append(f"{where}: setting '{key}': {problem.message} (got {problem.value!r})")
    if len(lines) == 1:
        return f"invalid configuration: {lines[0]}"
    return "invalid configuration:\n  " + "\n  ".join(lines)


def _origin_of(key_path: tuple[str, ...], origin: Mapping[tuple[str, ...], str], path: Path) -> str:
    """Where a wrong key came from: the file, or the environment variable that set it."""
    if key_path in origin:
        return origin[key_path]
    # An unknown section (DIGEST_DATABASE__URL makes a section "database"): whoever set keys below it.
    below = sorted({where for key, where in origin.items() if key[: len(key_path)] == key_path})
    if below:
        return " and ".join(below)
    for end in range(len(key_path) - 1, 0, -1):
        if key_path[:end] in origin:
            return origin[key_path[:end]]
    return str(path)

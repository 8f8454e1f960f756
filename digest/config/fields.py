"""Typed settings sections as frozen dataclasses, checked by their type hints and a few constraints.

A section declares each setting with its type and default (``setting(60, ge=1)``, or a plain
default; a list of strings comes as one string from the environment, items separated by commas, and
``CHECK`` in a field's metadata names a check of its own); making one,
whether from the configuration file and environment or in code, coerces text to the declared type
(the environment only has text) and checks every constraint, and collects every problem in one
``InvalidSettings`` so an operator sees them all at once. The words follow what people expect from
such messages: "input should be a valid integer", "input should be 'text' or 'json'". Settings are
read before every command, so this takes a few hundred lines of the standard library instead of a
validation framework that would take longer to import than the light commands take to run.
"""

from __future__ import annotations

import dataclasses
import re
import types
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal, Self, TypeVar, Union, cast, get_args, get_origin, get_type_hints

T = TypeVar("T")
CHECK = "check"  # field metadata: a callable given the typed value, as setting()'s ``check``
_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off"}


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    """One setting that is wrong. ``kind``: "unknown" (no such setting), "invalid" (``message`` says
    what was expected, ``value`` is what was given) or "refused" (a check's own words, which already
    say what was given)."""

    path: tuple[str, ...]
    kind: Literal["unknown", "invalid", "refused"]
    message: str = ""
    value: object = None


class InvalidSettings(ValueError):
    """Settings that cannot be used; ``problems`` names each one."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{'.'.join(p.path)}: {p.message or p.kind}" for p in problems))
        self.problems = problems


def setting(
    default: T,
    *,
    ge: float | None = None,
    le: float | None = None,
    gt: float | None = None,
    pattern: str | None = None,
    check: Callable[[Any], Any] | None = None,
) -> T:
    """A setting's default and constraints; ``check`` gets the typed value and returns it (perhaps
    normalised) or raises ``ValueError`` with words for the operator."""
    rules = {"ge": ge, "le": le, "gt": gt, "pattern": pattern, CHECK: check}
    return dataclasses.field(default=default, metadata={k: v for k, v in rules.items() if v is not None})


class Section:
    """The base of every settings section: typed and checked when made, never changed afterwards."""

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        for name, value in vars(self).items():
            typed, problem = _typed(type(self), name, value, ())
            if problem:
                problems.append(problem)
            elif typed is not value:
                object.__setattr__(self, name, typed)
        if problems:
            raise InvalidSettings(problems)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Self:
        """A section from plain data (a TOML table with environment variables merged in)."""
        return cast(Self, _build(cls, data, ()))

    def model_copy(self, *, update: Mapping[str, Any]) -> Self:
        """A copy with some settings changed, checked like any other."""
        return dataclasses.replace(self, **update)


def _build(cls: type[Any], data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """Every problem in ``data`` at once, in the order the settings are declared; else the section."""
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for name in cls.__dataclass_fields__:
        if name not in data:
            continue
        kind = _hints(cls)[name]
        if _is_section(kind):
            if not isinstance(data[name], Mapping):
                problems.append(Problem((*path, name), "invalid", "input should be a table of settings", data[name]))
                continue
            try:
                values[name] = _build(kind, data[name], (*path, name))
            except InvalidSettings as exc:
                problems.extend(exc.problems)
        else:
            values[name], problem = _typed(cls, name, data[name], path)
            if problem:
                problems.append(problem)
    problems += [Problem((*path, key), "unknown") for key in data if key not in cls.__dataclass_fields__]
    if problems:
        raise InvalidSettings(problems)
    return cls(**values)


def _typed(cls: type[Any], name: str, value: Any, path: tuple[str, ...]) -> tuple[Any, Problem | None]:
    """The value as the declared type of setting ``name``, checked; or the problem with it."""
    kind = _hints(cls)[name]
    if _is_section(kind):
        if isinstance(value, kind):
            return value, None
        return value, Problem((*path, name), "invalid", f"input should be {kind.__name__}", value)
    try:
        return _constrained(_coerce(kind, value), cls.__dataclass_fields__[name].metadata), None
    except _Invalid as exc:
        return value, Problem((*path, name), "invalid", str(exc), value)
    except ValueError as exc:
        return value, Problem((*path, name), "refused", str(exc), value)


def _is_section(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, Section)


class _Invalid(Exception):
    """A value of the wrong kind or outside its bounds; the text says what was expected."""


def _coerce(kind: Any, value: Any) -> Any:
    origin = get_origin(kind)
    if origin in (Union, types.UnionType):
        options = [k for k in get_args(kind) if k is not type(None)]
        return None if value is None else _coerce(options[0], value)
    if origin is Literal:
        allowed = get_args(kind)
        if value in allowed and isinstance(value, str):
            return value
        words = [repr(a) for a in allowed]
        raise _Invalid(f"input should be {', '.join(words[:-1])} or {words[-1]}" if len(words) > 1 else words[0])
    if origin is list:
        if isinstance(value, str):  # from the environment: items separated by commas
            value = [item.strip() for item in value.split(",") if item.strip()]
        if not isinstance(value, list | tuple):
            raise _Invalid("input should be a valid list")
        return [_coerce(get_args(kind)[0], item) for item in value]
    return _SCALARS[kind](value)


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise _Invalid("input should be a valid integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise _Invalid("input should be a valid integer, got a number with a fractional part")
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            raise _Invalid("input should be a valid integer, unable to parse string as an integer") from None
    raise _Invalid("input should be a valid integer")


def _float(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise _Invalid("input should be a valid number, unable to parse string as a number") from None
    raise _Invalid("input should be a valid number")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _Invalid("input should be a valid boolean, unable to interpret input")


def _str(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise _Invalid("input should be a valid string")


_SCALARS: dict[Any, Callable[[Any], Any]] = {int: _int, float: _float, bool: _bool, str: _str}


def _constrained(value: Any, rules: Mapping[str, Any]) -> Any:
    if value is None:
        return value
    if "ge" in rules and value < rules["ge"]:
        raise _Invalid(f"input should be greater than or equal to {rules['ge']}")
    if "gt" in rules and value <= rules["gt"]:
        raise _Invalid(f"input should be greater than {rules['gt']}")
    if "le" in rules and value > rules["le"]:
        raise _Invalid(f"input should be less than or equal to {rules['le']}")
    if "pattern" in rules and not re.search(rules["pattern"], value):
        raise _Invalid(f"string should match pattern '{rules['pattern']}'")
    check = rules.get(CHECK)
    return check(value) if check else value


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = get_type_hints(cls)
    return _HINTS[cls]

"""A small located-field reader for scenario and policy files: collects every problem of a file.

Each getter checks one field of a ``Located`` document and records a ``Problem`` (file, line, field
path, expected, found, hint) instead of raising, so one run reports all mistakes at once. Unknown keys get
a difflib "did you mean" hint. ``Fields.raise_if_problems()`` raises ``ScenarioError`` at the end.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from harness.durations import DURATION_EXPECTED, DurationError, parse_duration
from harness.errors import Problem, ScenarioError
from harness.scenario.yamlloc import FieldPath, Located

T = TypeVar("T")
D = TypeVar("D")


class Invalid(ValueError):
    """Raised by a ``Kind`` converter when the value does not fit."""


@dataclass(frozen=True)
class Kind(Generic[T]):
    """What a field must hold: a description for messages and a converter that raises ``Invalid``."""

    expected: str
    convert: Callable[[Any], T]


def describe(value: object) -> str:
    """Short, typed rendering of a found value for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"{shown!r} (a string)"
    if isinstance(value, int | float):
        return f"{value!r} (a number)"
    return f"{type(value).__name__} {value!r}"[:80]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def integer(minimum: int | None = None, maximum: int | None = None) -> Kind[int]:
    expected = _range_text("an integer", minimum, maximum)

    def convert(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid
        _check_range(value, minimum, maximum)
        return value

    return Kind(expected, convert)


def number(
    minimum: float | None = None, maximum: float | None = None, *, above: float | None = None
) -> Kind[float]:
    expected = _range_text("a number", minimum, maximum) + (f" > {above:g}" if above is not None else "")

    def convert(value: Any) -> float:
        if not _is_number(value):
            raise Invalid
        _check_range(value, minimum, maximum)
        if above is not None and not value > above:
            raise Invalid
        return float(value)

    return Kind(expected, convert)


def duration(*, positive: bool = False) -> Kind[float]:
    expected = DURATION_EXPECTED.replace("≥ 0", "> 0") if positive else DURATION_EXPECTED

    def convert(value: Any) -> float:
        try:
            seconds = parse_duration(value)
        except DurationError:
            raise Invalid from None
        if positive and seconds <= 0:
            raise Invalid
        return seconds

    return Kind(expected, convert)


def text(pattern: str | None = None, expected: str = "a non-empty string") -> Kind[str]:
    compiled = re.compile(pattern) if pattern else None

    def convert(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise Invalid
        if compiled is not None and not compiled.fullmatch(value):
            raise Invalid
        return value

    return Kind(expected, convert)


def any_text() -> Kind[str]:
    def convert(value: Any) -> str:
        if not isinstance(value, str):
            raise Invalid
        return value

    return Kind("a string", convert)


def boolean() -> Kind[bool]:
    def convert(value: Any) -> bool:
        if not isinstance(value, bool):
            raise Invalid
        return value

    return Kind("true or false", convert)


def choice(options: Sequence[str]) -> Kind[str]:
    expected = "one of " + ", ".join(repr(o) for o in options)

    def convert(value: Any) -> str:
        if value not in options:
            raise Invalid
        return str(value)

    return Kind(expected, convert)


def _range_text(base: str, minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f"{base} from {minimum:g} to {maximum:g}"
    if minimum is not None:
        return f"{base} ≥ {minimum:g}"
    if maximum is not None:
        return f"{base} ≤ {maximum:g}"
    return base


def _check_range(value: float, minimum: float | None, maximum: float | None) -> None:
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise Invalid


_MISSING: Any = object()


class Fields:
    """Reads fields of one located document and collects problems."""

    def __init__(self, located: Located) -> None:
        self.located = located
        self.problems: list[Problem] = []

    def add(self, path: FieldPath, expected: str, found: str, hint: str | None = None) -> None:
        self.problems.append(self.located.problem(path, expected, found, hint))

    def raw(self, path: FieldPath) -> Any:
        """The value at ``path``, or ``None`` when any part of it is absent."""
        value: Any = self.located.data
        for key in path:
            if isinstance(value, dict):
                value = value.get(key)
            elif isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
                value = value[key]
            else:
                return None
        return value

    def present(self, path: FieldPath) -> bool:
        return self.raw(path) is not None

    def mapping(
        self, path: FieldPath, allowed: Collection[str], required: Collection[str] = ()
    ) -> dict[str, Any] | None:
        """Check ``path`` is a mapping with only ``allowed`` keys and every ``required`` key."""
        value = self.raw(path)
        if not isinstance(value, dict):
            self.add(path, "a mapping", describe(value))
            return None
        for key in value:
            if key not in allowed:
                self.add((*path, key), "a known key", f"unknown key {key!r}", _did_you_mean(key, allowed))
        for key in required:
            if value.get(key) is None:
                self.add((*path, key), "a value (required)", "nothing")
        return value

    def items(self, path: FieldPath, *, non_empty: bool = False) -> list[Any]:
        """Check ``path`` holds a list (absent = empty list)."""
        value = self.raw(path)
        if value is None:
            if non_empty:
                self.add(path, "a non-empty list", "nothing")
            return []
        if not isinstance(value, list) or (non_empty and not value):
            self.add(path, "a non-empty list" if non_empty else "a list", describe(value))
            return []
        return value

    def get(self, path: FieldPath, kind: Kind[T], default: D) -> T | D:
        """The converted value at ``path``; ``default`` when absent or null (or invalid, after recording)."""
        value = self.raw(path)
        if value is None:
            return default
        try:
            return kind.convert(value)
        except Invalid:
            self.add(path, kind.expected, describe(value))
            return default

    def need(self, path: FieldPath, kind: Kind[T], placeholder: T) -> T:
        """Like ``get`` but the field is required; ``placeholder`` is returned after a problem."""
        if self.raw(path) is None:
            self.add(path, f"{kind.expected} (required)", "nothing")
            return placeholder
        return self.get(path, kind, placeholder)

    def string_map(self, path: FieldPath) -> tuple[tuple[str, str], ...]:
        """A mapping of string keys to scalar values, rendered as strings (headers, cookies)."""
        value = self.raw(path)
        if value is None:
            return ()
        if not isinstance(value, dict):
            self.add(path, "a mapping of names to strings", describe(value))
            return ()
        pairs: list[tuple[str, str]] = []
        for key, item in value.items():
            if not isinstance(key, str) or not key or isinstance(item, dict | list) or item is None:
                self.add((*path, key), "a name with a string value", describe(item))
                continue
            pairs.append((key, str(item).lower() if isinstance(item, bool) else str(item)))
        return tuple(pairs)

    def raise_if_problems(self) -> None:
        """Raise one ``ScenarioError`` with every problem, this file's in line order, others after."""
        if self.problems:
            own = self.located.file
            order = sorted(self.problems, key=lambda p: (p.file != own, p.file or "", p.line or 0))
            raise ScenarioError(order)


def _did_you_mean(key: object, allowed: Collection[str]) -> str:
    close = difflib.get_close_matches(str(key), list(allowed), n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return "allowed keys: " + ", ".join(sorted(allowed))

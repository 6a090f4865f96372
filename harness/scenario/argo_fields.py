"""Located field reading for Rollout/AnalysisTemplate manifests: collect problems, raise them all at once.

``Fields`` wraps one YAML document (``harness.scenario.yamlloc.Located``) and turns each wrong field into a
``Problem`` (file, line, field path, expected, found, did-you-mean). Durations follow Go's
``time.ParseDuration``, as Argo's ``DurationString.Duration`` does.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from harness.controllers.argo_rollouts.errors import RolloutSpecError
from harness.errors import Problem
from harness.scenario.yamlloc import FieldPath, Located

_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_GO_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_PLACEHOLDER = re.compile(r"\{\{.*?\}\}")


def go_duration(text: str) -> float | None:
    """Seconds of a Go duration string (``1m30s``, ``1.5h``, ``0``), or None when Go would refuse it."""
    body = text[1:] if text[:1] in "+-" else text
    if body == "0":
        return 0.0
    if not body:
        return None
    total, position = 0.0, 0
    while position < len(body):
        match = _GO_PART.match(body, position)
        if match is None:
            return None
        total += float(match.group(1)) * _GO_UNITS[match.group(2)]
        position = match.end()
    return -total if text.startswith("-") else total


def describe(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return f"{type(value).__name__} {value!r}"


class Fields:
    def __init__(self, doc: Located) -> None:
        self.doc = doc
        self.problems: list[Problem] = []

    def problem(self, path: FieldPath, expected: str, found: str, hint: str | None = None) -> None:
        self.problems.append(self.doc.problem(path, expected, found, hint))

    def raise_if_problems(self) -> None:
        if self.problems:
            raise RolloutSpecError(self.problems)

    def get(self, path: FieldPath) -> Any:
        value: Any = self.doc.data
        for key in path:
            if isinstance(key, int) and isinstance(value, list) and 0 <= key < len(value):
                value = value[key]
            elif isinstance(key, str) and isinstance(value, Mapping):
                value = value.get(key)
            else:
                return None
        return value

    def mapping(self, path: FieldPath, *, required: bool = False) -> Mapping[str, Any] | None:
        value = self.get(path)
        if value is None:
            if required:
                self.problem(path, "a mapping", "nothing")
            return None
        if not isinstance(value, Mapping):
            self.problem(path, "a mapping", describe(value))
            return None
        return value

    def items(self, path: FieldPath, *, required: bool = False) -> list[Any]:
        value = self.get(path)
        if value is None:
            if required:
                self.problem(path, "a non-empty list", "nothing")
            return []
        if not isinstance(value, list):
            self.problem(path, "a list", describe(value))
            return []
        if required and not value:
            self.problem(path, "a non-empty list", "an empty list")
        return value

    def known_keys(
        self, path: FieldPath, known: Iterable[str], unsupported: Mapping[str, str] | None = None
    ) -> None:
        """Refuse keys the emulation would silently ignore; ``unsupported`` maps a key to the reason."""
        value = self.get(path)
        if not isinstance(value, Mapping):
            return
        allowed = set(known)
        for key in value:
            if unsupported and key in unsupported:
                self.problem((*path, key), "a field the emulation supports", f"{key!r}: {unsupported[key]}")
            elif key not in allowed:
                close = difflib.get_close_matches(str(key), sorted(allowed), n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}?" if close else None
                self.problem((*path, key), f"one of {', '.join(sorted(allowed))}", repr(key), hint)

    def string(self, path: FieldPath, *, required: bool = False, default: str = "") -> str:
        value = self.get(path)
        if value is None:
            if required:
                self.problem(path, "a string", "nothing")
            return default
        if not isinstance(value, str) or (required and not value):
            self.problem(path, "a non-empty string", describe(value))
            return default
        return value

    def integer(self, path: FieldPath, default: int, *, minimum: int | None = None) -> int:
        value = self.get(path)
        if value is None:
            return default
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            found = describe(value)
            if isinstance(value, str) and _PLACEHOLDER.search(value):
                found += " (argument placeholders are only supported in query, address and conditions)"
            self.problem(path, "an integer", found)
            return default
        if minimum is not None and value < minimum:
            self.problem(path, f"an integer ≥ {minimum}", str(value))
            return default
        return value

    def boolean(self, path: FieldPath, default: bool = False) -> bool:
        value = self.get(path)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(path, "true or false", describe(value))
            return default
        return value

    def duration(self, path: FieldPath) -> float | None:
        value = self.get(path)
        if value is None or value == "":
            return None
        seconds = go_duration(value) if isinstance(value, str) else None
        if seconds is None:
            self.problem(path, "a Go duration such as 30s, 1m or 1h30m", describe(value))
        return seconds

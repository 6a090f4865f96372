"""YAML documents with the line of every field path, and a validating field reader (pure).

Private to the Flagger loaders (``spec_loader``): a multi-document file is read and composed by
``harness.scenario.yamlloc`` (the scenario loader's reader, with its size, alias-bomb and nesting limits);
each document keeps ``{("spec", "analysis", "metrics", 0): line}`` so problems can say ``canary.yaml:31: at
spec.analysis.metrics[0].interval: expected …, found …``.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from harness.errors import CanarySpecError, Problem
from harness.scenario.yamlloc import FieldPath, Located, load_located_all, parse_located_all, render_path

T = TypeVar("T")

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT32 = f"an integer within int32 range ({INT32_MIN}..{INT32_MAX})"
PORT = "a port number (1..65535)"

_MISSING = object()


@dataclass(frozen=True)
class Document:
    data: Any
    lines: Mapping[FieldPath, int]


def read_documents(text: str, file: str | None) -> list[Document]:
    """All documents of a YAML stream with their line maps; any problem is a ``CanarySpecError``.

    Parsed by ``harness.scenario.yamlloc`` (the scenario loader's reader), so the same protections apply: at
    most 1 MiB, alias bombs, recursive aliases, deep nesting, duplicate and merge keys are refused, located.
    """
    try:
        documents = parse_located_all(text, file or "", error=CanarySpecError)
    except CanarySpecError as exc:
        if file:
            raise
        raise CanarySpecError([dataclasses.replace(p, file=None) for p in exc.problems]) from None
    return _documents(documents)


def read_file_documents(path: str | Path) -> list[Document]:
    """``read_documents`` of a file, reading at most 1 MiB + 1 byte of it (``yamlloc.load_located_all``)."""
    return _documents(load_located_all(path, error=CanarySpecError))


DocumentSource = str | Path | Mapping[str, Any]  # YAML text, a file, or an already-parsed mapping


def source_documents(document: DocumentSource, source: str | None) -> tuple[list[Document], str | None]:
    """The documents of ``document`` and the file name problems carry (a mapping has no line map)."""
    if isinstance(document, Mapping):
        return [Document(document, {})], source
    if isinstance(document, Path):
        return read_file_documents(document), source or str(document)  # reads at most 1 MiB
    return read_documents(document, source), source


def _documents(located: list[Located]) -> list[Document]:
    return [Document(document.data, document.lines) for document in located]


def describe(value: Any) -> str:
    """How a found value is shown in a problem."""
    if value is _MISSING:
        return "nothing (field missing)"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


@dataclass
class FieldReader:
    """Reads typed fields out of plain YAML data, collecting located problems instead of raising."""

    file: str | None
    lines: Mapping[FieldPath, int]
    problems: list[Problem] = field(default_factory=list)

    def line_of(self, path: FieldPath) -> int | None:
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None

    def add(self, path: FieldPath, expected: str, found: str, hint: str | None = None) -> None:
        self.problems.append(Problem(render_path(path), expected, found, self.file, self.line_of(path), hint))

    def raise_if_any(self) -> None:
        if self.problems:
            raise CanarySpecError(self.problems)

    def get(
        self,
        parent: Mapping[str, Any],
        path: FieldPath,
        check: Callable[[Any], T | None],
        expected: str,
        *,
        default: T | None = None,
        required: bool = False,
    ) -> T | None:
        """``parent[path[-1]]`` converted by ``check`` (None = invalid); missing → default or problem."""
        key = path[-1]
        value = parent.get(key, _MISSING) if isinstance(key, str) else _MISSING
        if value is _MISSING or value is None:
            if required:
                self.add(path, expected, describe(_MISSING))
            return default
        converted = check(value)
        if converted is None:
            self.add(path, expected, describe(value))
            return default
        return converted


# ---- value checks: return the converted value, or None when the value has the wrong type -------------
def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def as_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def as_number(value: Any) -> float | None:
    """A finite JSON number (JSON has no inf/NaN, so neither can the Canary Flagger decodes)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond float range
        return None
    return number if math.isfinite(number) else None


def as_int(value: Any) -> int | None:
    """A JSON number that Go can unmarshal into ``int`` (integral floats such as ``5.0`` included)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, int):
        return value  # exact, however large (``float(10**400)`` would overflow)
    return int(value) if value.is_integer() else None


def as_port(value: Any) -> int | None:
    """A TCP port number (``expected``: ``PORT``): what the Kubernetes Service Flagger generates accepts."""
    number = as_int(value)
    return number if number is not None and 1 <= number <= 65535 else None


def as_int32(value: Any) -> int | None:
    """``as_int`` within int32 range (``expected``: ``INT32``).

    The CRD declares these fields ``type: number`` only; the limit is Flagger's Go types: ``int32`` for
    ``progressDeadlineSeconds``, ``service.port`` and ``targetPort``, and ``int`` for the analysis fields,
    which is 32 bits on Flagger's linux/arm/v7 image. Flagger cannot decode a Canary beyond that range.
    """
    number = as_int(value)
    return number if number is not None and INT32_MIN <= number <= INT32_MAX else None


def as_mapping(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def as_list(value: Any) -> list[Any] | None:
    return value if isinstance(value, list) else None


def as_str_map(value: Any) -> tuple[tuple[str, str], ...] | None:
    """A ``map[string]string`` (keys sorted, as Go's JSON encoder would write them)."""
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return None
    return tuple(sorted(value.items()))


def matching(pattern: str) -> Callable[[Any], str | None]:
    """A string matching the CRD ``pattern`` (unanchored at the end, like the CRD's)."""
    compiled = re.compile(pattern)

    def check(value: Any) -> str | None:
        return value if isinstance(value, str) and compiled.match(value) else None

    return check


def one_of(*choices: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return value if isinstance(value, str) and value in choices else None

    return check

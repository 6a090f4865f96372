"""YAML documents with the line of every field path, and a validating field reader (pure).

Private to the Flagger loaders (``spec_loader``): a multi-document file is composed once with
``yaml.SafeLoader``; each document keeps ``{("spec", "analysis", "metrics", 0): line}`` so problems
can say ``canary.yaml:31: at spec.analysis.metrics[0].interval: expected …, found …``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import yaml

from harness.errors import CanarySpecError, Problem

PathKey = str | int
FieldPath = tuple[PathKey, ...]
T = TypeVar("T")

_MISSING = object()


def render_path(path: FieldPath) -> str:
    """``("spec", "analysis", "metrics", 1, "name")`` → ``spec.analysis.metrics[1].name``."""
    text = ""
    for key in path:
        if isinstance(key, int):
            text += f"[{key}]"
        else:
            text += f".{key}" if text else key
    return text


@dataclass(frozen=True)
class Document:
    data: Any
    lines: Mapping[FieldPath, int]


def _node_lines(node: yaml.Node, path: FieldPath, out: dict[FieldPath, int]) -> None:
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                child = (*path, str(key_node.value))
                out[child] = key_node.start_mark.line + 1
                _node_lines(value_node, child, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _node_lines(item, (*path, index), out)


def read_documents(text: str, file: str | None) -> list[Document]:
    """All documents of a YAML stream with their line maps; YAML errors become ``CanarySpecError``."""
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        datas = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise CanarySpecError([Problem("", "valid YAML", str(problem), file, line)]) from exc
    documents = []
    for node, data in zip(nodes, datas, strict=True):
        lines: dict[FieldPath, int] = {}
        if node is not None:
            _node_lines(node, (), lines)
        documents.append(Document(data, lines))
    return documents


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
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def as_int(value: Any) -> int | None:
    """A JSON number that Go can unmarshal into ``int`` (integral floats such as ``5.0`` included)."""
    number = as_number(value)
    if number is None or not number.is_integer():
        return None
    return int(number)


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

"""YAML loading that remembers where every value came from (pure apart from reading one file).

``load_located(path)`` composes the document with ``yaml.SafeLoader`` (no arbitrary tags), builds plain
Python data itself, and keeps the 1-based line of every field path, so validators can say
``scenarios/x.yaml:12: at load.rps: expected …, found …``. It refuses, with located errors: files over
1 MiB, nesting deeper than ``MAX_DEPTH``, alias bombs (more than ``MAX_NODES`` nodes after alias
expansion), recursive aliases, duplicate keys, merge keys, non-scalar keys and YAML syntax errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.errors import LocatedInputError, Problem, ScenarioError

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 100_000

PathKey = str | int
FieldPath = tuple[PathKey, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_COLLECTION_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})


def render_path(path: FieldPath) -> str:
    """``("load", "routes", 1, "path")`` → ``load.routes[1].path``; the empty path → ``""``."""
    text = ""
    for key in path:
        if isinstance(key, int) and not isinstance(key, bool):
            text += f"[{key}]"
        else:
            text += f".{key}" if text else str(key)
    return text


@dataclass(frozen=True)
class Located:
    """Loaded YAML data plus the line of each field path."""

    data: Any
    file: str
    lines: Mapping[FieldPath, int]

    def line_of(self, path: FieldPath) -> int | None:
        """Line of ``path``, or of its nearest ancestor that exists in the file."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None

    def problem(self, path: FieldPath, expected: str, found: str, hint: str | None = None) -> Problem:
        return Problem(render_path(path), expected, found, self.file, self.line_of(path), hint)


class _Refused(Exception):
    """Internal: stop composing/building; carries a located problem."""

    def __init__(self, expected: str, found: str, line: int | None) -> None:
        super().__init__(expected)
        self.expected, self.found, self.line = expected, found, line


class _Loader(yaml.SafeLoader):
    """SafeLoader that caps nesting depth while composing (the composer is recursive)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise _Refused(f"nesting of at most {MAX_DEPTH} levels", "deeper nesting", mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load_located(path: str | Path, *, error: type[LocatedInputError] = ScenarioError) -> Located:
    """Read and parse a one-document YAML file; raise ``error`` (default ``ScenarioError``) when invalid."""
    return parse_located(_read_text(path, error), str(path), error=error)


def load_located_all(path: str | Path, *, error: type[LocatedInputError] = ScenarioError) -> list[Located]:
    """Every document of a multi-document YAML file (e.g. a Canary plus its MetricTemplates)."""
    return parse_located_all(_read_text(path, error), str(path), error=error)


def parse_located(text: str, source: str, *, error: type[LocatedInputError] = ScenarioError) -> Located:
    """Parse one YAML document (named ``source`` in messages); raise ``error`` on any problem."""
    return _parse(text, source, error, single=True)[0]


def parse_located_all(
    text: str, source: str, *, error: type[LocatedInputError] = ScenarioError
) -> list[Located]:
    """Parse every document of a YAML stream, each with the same protections as ``parse_located``."""
    return _parse(text, source, error, single=False)


def _read_text(path: str | Path, error: type[LocatedInputError]) -> str:
    source = str(path)
    try:
        with open(path, "rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        reason = getattr(exc, "strerror", None) or str(exc)
        raise error([Problem("", "a readable YAML file", f"{type(exc).__name__}: {reason}", source)]) from exc
    if len(raw) > MAX_BYTES:
        raise error([Problem("", f"a file of at most {MAX_BYTES} bytes", "a larger file", source)])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        found = f"undecodable byte at offset {exc.start}"
        raise error([Problem("", "UTF-8 text", found, source, line)]) from exc


def _parse(text: str, source: str, error: type[LocatedInputError], *, single: bool) -> list[Located]:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise error([Problem("", f"a document of at most {MAX_BYTES} bytes", "a larger document", source)])
    loader: _Loader | None = None
    documents: list[Located] = []
    problems: list[Problem] = []
    try:
        loader = _Loader(text)
        nodes = [loader.get_single_node()] if single else _all_nodes(loader)
        for node in nodes:
            builder = _Builder(loader)
            data = None if node is None else builder.build(node, ())
            problems += [
                Problem(p.path, p.expected, p.found, source, p.line, p.hint) for p in builder.problems
            ]
            documents.append(Located(data, source, builder.lines))
    except _Refused as exc:
        raise error([Problem("", exc.expected, exc.found, source, exc.line)]) from None
    except yaml.MarkedYAMLError as exc:
        raise error([_syntax_problem(exc, source)]) from exc
    except yaml.YAMLError as exc:
        found = _one_line(str(exc))
        raise error([Problem("", "valid YAML", found, source, _reader_line(exc, text))]) from exc
    except RecursionError:
        raise error([Problem("", "a less deeply nested document", "nesting too deep", source)]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if problems:
        raise error(problems)
    return documents


def _all_nodes(loader: _Loader) -> list[yaml.Node | None]:
    nodes: list[yaml.Node | None] = []
    while loader.check_node():
        nodes.append(loader.get_node())
    return nodes


class _Builder:
    """Turns a composed node tree into plain data, recording lines and collecting key problems."""

    def __init__(self, loader: _Loader) -> None:
        self._loader = loader
        self._visits = 0
        self._ancestors: set[int] = set()
        self.lines: dict[FieldPath, int] = {}
        self.problems: list[Problem] = []

    def build(self, node: yaml.Node, path: FieldPath) -> Any:
        self._visits += 1
        if self._visits > MAX_NODES:
            raise _Refused(
                f"at most {MAX_NODES} nodes after alias expansion", "more (alias bomb?)", _line(node)
            )
        if id(node) in self._ancestors:
            raise _Refused(
                "no recursive aliases", f"an alias that contains itself at {render_path(path)}", _line(node)
            )
        self.lines.setdefault(path, _line(node))
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if node.tag not in _PLAIN_COLLECTION_TAGS:
            self._problem(path, "a plain mapping or list", f"tag {node.tag}", node)
        self._ancestors.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(child, (*path, index)) for index, child in enumerate(node.value)]
            return self._mapping(node, path)
        finally:
            self._ancestors.discard(id(node))

    def _mapping(self, node: yaml.Node, path: FieldPath) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                self._problem(path, "explicit keys", "a merge key '<<' (not supported)", key_node)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(path, "a plain scalar key", "a mapping or list used as a key", key_node)
                continue
            key = self._scalar(key_node, path)
            if key in result:
                first = self.lines.get((*path, key))
                self._problem(
                    (*path, key),
                    "each key once",
                    f"a duplicate key {key!r} (first on line {first})",
                    key_node,
                )
                continue
            self.lines[(*path, key)] = _line(key_node)
            result[key] = self.build(value_node, (*path, key))
        return result

    def _scalar(self, node: yaml.Node, path: FieldPath) -> Any:
        try:
            return self._loader.construct_object(node)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
            reason = exc.problem if isinstance(exc, yaml.MarkedYAMLError) and exc.problem else str(exc)
            self._problem(path, "a valid scalar", _one_line(reason), node)
            return None

    def _problem(self, path: FieldPath, expected: str, found: str, node: yaml.Node) -> None:
        self.problems.append(Problem(render_path(path), expected, found, None, _line(node)))


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _syntax_problem(exc: yaml.MarkedYAMLError, source: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    found = " ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML"
    return Problem("", "valid YAML", _one_line(found), source, None if mark is None else mark.line + 1)


def _reader_line(exc: yaml.YAMLError, text: str) -> int | None:
    position = getattr(exc, "position", None)
    return text.count("\n", 0, position) + 1 if isinstance(position, int) else None


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def parse_path(text: str) -> FieldPath:
    """Inverse of ``render_path``: ``load.routes[1].path`` → ``("load", "routes", 1, "path")``."""
    path: list[PathKey] = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", text):
        path.append(int(index) if index else name)
    return tuple(path)


def join_path(base: FieldPath, rendered: str) -> FieldPath:
    """Append a rendered sub-path (``[0].rate`` or ``a.b``) to ``base``."""
    return (*base, *parse_path(rendered))

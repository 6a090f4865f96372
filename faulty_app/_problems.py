"""Located configuration problems: the error type, pydantic-error translation and text loading."""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

_MAX_FOUND = 80


@dataclass(frozen=True)
class FaultProblem:
    """One problem: ``path`` relative to the fault list (``[1].rate``), expectation, what was found."""

    path: str
    expected: str
    found: str

    def render(self, source: str = "FAULTS") -> str:
        return f"{source}{self.path}: expected {self.expected}, found {self.found}"


class FaultConfigError(ValueError):
    """A fault configuration is invalid; ``problems`` says exactly where and why."""

    def __init__(self, problems: Iterable[FaultProblem], *, source: str = "FAULTS") -> None:
        self.problems: tuple[FaultProblem, ...] = tuple(problems)
        self.source = source
        super().__init__("\n".join(problem.render(source) for problem in self.problems))


def show(value: object) -> str:
    """A short, printable rendering of an input value (never raises)."""
    if value is None:
        return "nothing"
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError, RecursionError):
        try:
            text = repr(value)
        except Exception:  # huge ints, hostile __repr__: describe the type instead
            text = f"an unprintable {type(value).__name__}"
    return text if len(text) <= _MAX_FOUND else text[: _MAX_FOUND - 1] + "…"


def problems_from_validation_error(
    exc: ValidationError, models: Mapping[str, type[BaseModel]]
) -> tuple[FaultProblem, ...]:
    """Translate pydantic errors on a list of discriminated fault models into located problems."""
    errors = exc.errors(include_url=False)
    # A field whose element failed is also reported as a whole (e.g. "should be None" for an
    # optional field); keep only the deepest, most precise location.
    kept = [error for error in errors if not _has_deeper(error, errors)]
    return tuple(dict.fromkeys(_problem(error, models) for error in kept))  # dedupe, keep order


def _has_deeper(error: ErrorDetails, others: Sequence[ErrorDetails]) -> bool:
    loc = error["loc"]
    return any(len(other["loc"]) > len(loc) and other["loc"][: len(loc)] == loc for other in others)


def _problem(error: ErrorDetails, models: Mapping[str, type[BaseModel]]) -> FaultProblem:
    loc = list(error["loc"])
    model: type[BaseModel] | None = None
    if len(loc) >= 2 and isinstance(loc[0], int) and loc[1] in models:
        model = models[str(loc[1])]
        del loc[1]
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    kinds = ", ".join(repr(name) for name in models)
    if kind in {"union_tag_invalid", "union_tag_not_found"}:
        found = show(value.get("kind")) if isinstance(value, dict) else "nothing"
        return FaultProblem(_path([*loc, "kind"]), f"a fault kind, one of {kinds}", found)
    if kind == "model_attributes_type" and len(loc) == 1:
        return FaultProblem(_path(loc), f"a fault object with a 'kind' ({kinds})", show(value))
    if kind == "fault_rule":
        field = str(ctx["field"])
        found = show(value.get(field)) if isinstance(value, dict) else show(value)
        return FaultProblem(_path([*loc, field]), str(ctx["expected"]), found)
    if kind == "extra_forbidden":
        parent = _walk(model, loc[1:-1])[1]
        allowed = ", ".join(parent.model_fields) if parent else "the documented fields"
        return FaultProblem(_path(loc), f"no field named {show(loc[-1])} (allowed: {allowed})", show(value))
    description = _walk(model, loc[1:])[0]
    if kind == "missing":
        return FaultProblem(_path(loc), f"{description or 'a value'} (required)", "nothing")
    return FaultProblem(_path(loc), description or _from_message(error["msg"]), show(value))


def _path(loc: Sequence[int | str]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)


def _walk(
    model: type[BaseModel] | None, parts: Sequence[int | str]
) -> tuple[str | None, type[BaseModel] | None]:
    """Follow ``parts`` through nested models: (description of the last field, model reached)."""
    description: str | None = None
    current = model
    for part in parts:
        if isinstance(part, int):
            continue  # an element of a list field: keep the list's description
        if current is None or part not in current.model_fields:
            return None, None
        field = current.model_fields[part]
        description, current = field.description, _model_in(field.annotation)
    return description, current


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _from_message(message: str) -> str:
    for prefix in ("Input should be ", "Value error, "):
        if message.startswith(prefix):
            return message.removeprefix(prefix)
    return message


class _SafeLoaderWithoutAliases(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses anchors/aliases (no exponential "billion laughs" documents)."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(None, None, "YAML aliases are not allowed", event.start_mark)
        return super().compose_node(parent, index)


def load_json_or_yaml(text: str, source: str) -> object:
    """JSON if it parses, else YAML through the safe loader; errors become a located problem."""
    try:
        return json.loads(text)
    except ValueError:  # not JSON, or an unreadable value (YAML below then reports it)
        pass
    except RecursionError as exc:
        raise FaultConfigError(
            (FaultProblem("", "a shallow document", "nesting too deep"),), source=source
        ) from exc
    try:
        return yaml.load(text, Loader=_SafeLoaderWithoutAliases)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or type(exc).__name__
        problem = FaultProblem("", "a JSON or YAML list of fault objects", f"invalid YAML{where}: {reason}")
        raise FaultConfigError((problem,), source=source) from exc
    except ValueError as exc:  # a scalar the constructor cannot build, e.g. an int of > 4300 digits
        found = f"an unreadable value: {show(str(exc))}"
        raise FaultConfigError(
            (FaultProblem("", "a JSON or YAML list of fault objects", found),), source=source
        ) from exc
    except RecursionError as exc:
        raise FaultConfigError(
            (FaultProblem("", "a shallow document", "nesting too deep"),), source=source
        ) from exc


def _too_deep(source: str) -> FaultConfigError:
    return FaultConfigError((FaultProblem("", "a shallow document", "nesting too deep"),), source=source)

"""The scenario's Canary: base file + inline ``analysis`` / ``progress_deadline_seconds`` overrides (pure).

The base Canary file is read with ``harness.scenario.yamlloc`` (size, alias and duplicate-key protections, one
or more documents), the overrides are merged onto the ``kind: Canary`` mapping, and the result is validated by
``harness.scenario.flagger_canary.parse_canary``. Its problems are re-pointed at the scenario's lines when an
override caused them, else at the Canary file's lines.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.controllers.flagger.model import CanarySpec
from harness.errors import CanarySpecError, Problem
from harness.providers.registry import DEFAULT_PROVIDER, PROVIDERS
from harness.scenario import flagger_canary as spec_loader
from harness.scenario.fields import Fields, integer, text
from harness.scenario.yamlloc import FieldPath, Located, load_located_all, parse_path, render_path

CANARY_DIR = "canaries"
DEFAULT_CANARY = f"{CANARY_DIR}/faulty-app.yaml"
STRATEGY_KEYS = (
    "stepWeight",
    "stepWeights",
    "iterations",
)  # Flagger's oneOf: an override replaces the others
ANALYSIS_KEYS = (
    "interval", "threshold", "maxWeight", "stepWeight", "stepWeights", "stepWeightPromotion", "iterations",
    "match", "mirror", "mirrorWeight", "primaryReadyThreshold", "canaryReadyThreshold", "metrics",
    "webhooks", "alerts", "sessionAffinity",
)  # fmt: skip


def read_canary(reader: Fields, file: Path) -> tuple[CanarySpec | None, dict[str, Any]]:
    """The Canary as applied, and its manifest; problems go to ``reader``."""
    name = reader.get(("canary",), text(), None)
    base = file.parent / name if name else find_default_canary(file.parent)
    if base is None or not base.is_file():
        shown = str(base) if base is not None else f"{DEFAULT_CANARY} next to the scenario or its parents"
        expected = "a Canary YAML file relative to the scenario"
        reader.add(("canary",), expected, f"{shown!r}, which is not an existing file")
        return None, {}
    overrides = _overrides(reader)
    deadline = reader.get(("progress_deadline_seconds",), integer(1), None)
    document: Located | None = None
    try:
        documents = load_located_all(base, error=CanarySpecError)
        document = _canary_document(documents)
        manifest = merged(document.data, overrides, deadline)
        spec = spec_loader.parse_canary(manifest, source=str(base), mesh_provider=mesh_provider(reader))
    except CanarySpecError as exc:
        reader.problems.extend(_relocate(reader, exc.problems, overrides, deadline, base, document))
        return None, {}
    return spec, manifest


def mesh_provider(reader: Fields) -> str:
    """The scenario's ``provider:`` is Flagger's ``-mesh-provider``: the provider of a Canary without
    ``spec.provider`` (the Linkerd tutorial's Canary has none; Flagger runs with gatewayapi:v1beta1)."""
    raw = reader.raw(("provider",))
    return raw if isinstance(raw, str) and raw in PROVIDERS else DEFAULT_PROVIDER


def find_default_canary(directory: Path, levels: int = 2) -> Path | None:
    """``canaries/faulty-app.yaml`` in ``directory`` or up to ``levels`` parents."""
    for _ in range(levels + 1):
        if (directory / DEFAULT_CANARY).is_file():
            return directory / DEFAULT_CANARY
        directory = directory.parent
    return None


def _overrides(reader: Fields) -> dict[str, Any]:
    if not reader.present(("analysis",)):
        return {}
    return dict(reader.mapping(("analysis",), ANALYSIS_KEYS) or {})


def _canary_document(documents: list[Located]) -> Located:
    canaries = [d for d in documents if isinstance(d.data, dict) and d.data.get("kind") == "Canary"]
    if len(canaries) == 1:
        return canaries[0]
    found = f"{len(canaries)} Canary documents among {len(documents)}"
    file = documents[0].file if documents else None
    raise CanarySpecError([Problem("kind", "exactly one document with kind: Canary", found, file, None)])


def merged(raw: object, overrides: Mapping[str, Any], deadline: int | None) -> dict[str, Any]:
    """A deep copy of the Canary mapping with analysis keys and progressDeadlineSeconds replaced."""
    if not isinstance(raw, dict):
        raise CanarySpecError([Problem("", "a Canary mapping", type(raw).__name__)])
    manifest = copy.deepcopy(raw)
    spec = manifest.setdefault("spec", {})
    if not isinstance(spec, dict):
        return manifest  # parse_canary reports it
    analysis = spec.get("analysis")
    if overrides and isinstance(analysis, dict):
        if any(key in overrides for key in STRATEGY_KEYS):
            for key in STRATEGY_KEYS:
                analysis.pop(key, None)
        analysis.update(copy.deepcopy(dict(overrides)))
    elif overrides and analysis is None:
        spec["analysis"] = copy.deepcopy(dict(overrides))
    if deadline is not None:
        spec["progressDeadlineSeconds"] = deadline
    return manifest


def _relocate(
    reader: Fields,
    problems: tuple[Problem, ...],
    overrides: Mapping[str, Any],
    deadline: int | None,
    base: Path,
    document: Located | None,
) -> list[Problem]:
    """Point each Canary problem at the scenario line of the override that caused it, else at the file's."""
    moved: list[Problem] = []
    for problem in problems:
        path = parse_path(problem.path)
        where: FieldPath | None = None
        if path[:2] == ("spec", "analysis") and len(path) > 2 and path[2] in overrides:
            where = ("analysis", *path[2:])
        elif path == ("spec", "analysis") and (culprit := _override_named(problem, overrides)):
            where = ("analysis", culprit)  # e.g. `threshold: null` leaves the analysis without one
        elif path[:2] == ("spec", "progressDeadlineSeconds") and deadline is not None:
            where = ("progress_deadline_seconds",)
        if where is not None:
            located = reader.located
            line = located.line_of(where)
            moved.append(
                Problem(render_path(where), problem.expected, problem.found, located.file, line, problem.hint)
            )
            continue
        line = problem.line if problem.line is not None or document is None else document.line_of(path)
        moved.append(Problem(problem.path, problem.expected, problem.found, str(base), line, problem.hint))
    return moved


def _override_named(problem: Problem, overrides: Mapping[str, Any]) -> str | None:
    """The override a whole-analysis problem is about: a key set to null first, else one the text names."""
    named = [key for key in overrides if key in problem.found or key in problem.expected]
    nulls = [key for key in named if overrides[key] is None]
    return next(iter(nulls or named), None)

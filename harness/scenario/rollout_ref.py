"""The scenario's Rollout bundle (``controller: argo-rollouts``): files and/or inline documents (pure).

``rollout:`` is a file path relative to the scenario, or a list whose items are file paths or inline
manifests (mappings): together one ``kind: Rollout`` and the AnalysisTemplates it names, read by
``harness.scenario.argo_rollout``. Problems in a file point at that file's lines; problems in an inline
manifest point at the scenario's lines.
"""

from __future__ import annotations

from pathlib import Path

from harness.controllers.argo_rollouts.errors import RolloutSpecError
from harness.controllers.argo_rollouts.model import RolloutBundle
from harness.scenario.argo_rollout import bundle_from
from harness.scenario.fields import Fields
from harness.scenario.yamlloc import FieldPath, Located, load_located_all

AT: FieldPath = ("rollout",)
EXPECTED = "a Rollout file relative to the scenario, or a list of files and inline manifests"


def read_rollout(reader: Fields, file: Path) -> RolloutBundle | None:
    """The bundle of ``rollout:``; None (with problems in ``reader``) when absent or invalid."""
    raw = reader.raw(AT)
    if raw is None:
        reader.add(AT, EXPECTED + " (controller: argo-rollouts needs one)", "nothing")
        return None
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items:
        reader.add(AT, EXPECTED, type(raw).__name__)
        return None
    documents: list[Located] = []
    before = len(reader.problems)
    try:
        for index, item in enumerate(items):
            where: FieldPath = AT if isinstance(raw, str) else (*AT, index)
            if isinstance(item, str):
                path = file.parent / item
                if not path.is_file():
                    reader.add(where, "an existing Rollout/AnalysisTemplate file", repr(str(path)))
                    continue
                documents.extend(load_located_all(path, error=RolloutSpecError))
            elif isinstance(item, dict):
                documents.append(_inline(reader.located, where, item))
            else:
                reader.add(where, "a file path or an inline manifest", type(item).__name__)
        if len(reader.problems) > before:
            return None
        return bundle_from(documents, str(file))
    except RolloutSpecError as exc:
        reader.problems.extend(exc.problems)
        return None


def _inline(scenario: Located, at: FieldPath, data: dict[str, object]) -> Located:
    """An inline manifest as its own document, its lines those of the scenario file."""
    depth = len(at)
    lines = {path[depth:]: line for path, line in scenario.lines.items() if path[:depth] == at}
    return Located(data, scenario.file, lines)

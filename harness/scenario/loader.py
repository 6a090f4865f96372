"""Scenario files (``scenarios/*.yaml``) into frozen ``Scenario`` objects, with located errors (pure).

``load_scenario(path)`` only ever returns a ``Scenario`` or raises ``ScenarioError`` listing every problem
of the file (file, line, field path, expected vs found, "did you mean"). Fault lists are validated by
``faulty_app.config.parse_faults``; the Canary by ``harness.scenario.flagger_canary``. Inline ``analysis``
overrides are merged onto the base Canary mapping before it is parsed. Schema: ``scenarios/README.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from faulty_app.config import FaultConfigError, dump_faults, parse_faults
from harness.controllers.argo_rollouts.model import RolloutBundle
from harness.controllers.argo_rollouts.plugin import ARGO_ROLLOUTS
from harness.controllers.flagger.model import CanarySpec
from harness.controllers.registry import CONTROLLERS, DEFAULT_CONTROLLER
from harness.errors import Problem, ScenarioError
from harness.model import ScenarioId
from harness.providers.registry import PROVIDERS
from harness.scenario.canary import read_canary
from harness.scenario.fields import Fields, any_text, choice, duration, integer, text
from harness.scenario.model import (
    FAULT_PHASES,
    REQUIREMENTS,
    FaultPhase,
    FaultPlan,
    FaultTrigger,
    Requirement,
    RevisionSpec,
    Scenario,
)
from harness.scenario.policy import DEFAULT_POLICY, Policy, find_policy, load_policy, read_policy
from harness.scenario.rollout_ref import read_rollout
from harness.scenario.sections import read_expectations, read_load, read_timing
from harness.scenario.yamlloc import FieldPath, join_path, load_located, render_path

ID_PATTERN = r"[a-z0-9][a-z0-9-]*"
TRIGGER_KEYS = ("after_seconds", "at_weight", "phase", "after_detection")

TOP_KEYS = (
    "id",
    "description",
    "requires",
    "controller",
    "provider",
    "canary",
    "rollout",
    "analysis",
    "progress_deadline_seconds",
    "policy",
    "policy_overrides",
    "stable",
    "revision",
    "fault",
    "load",
    "timing",
    "expect",
)


def discover(directory: str | Path) -> list[Path]:
    """Scenario files directly in ``directory`` (sorted), without ``policy.yaml`` and ``canaries/``."""
    root = Path(directory)
    found = [*root.glob("*.yaml"), *root.glob("*.yml")]
    return sorted(p for p in found if p.is_file() and p.name not in {"policy.yaml", "policy.yml"})


def load_catalog(directory: str | Path, *, policy: Policy | None = None) -> list[Scenario]:
    """Load every scenario of ``directory``; one ``ScenarioError`` lists the problems of all files."""
    scenarios: list[Scenario] = []
    problems: list[Problem] = []
    for path in discover(directory):
        try:
            scenarios.append(load_scenario(path, policy=policy))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    seen: dict[str, Path] = {}
    for scenario in scenarios:
        if scenario.id in seen:
            problems.append(
                Problem(
                    "id",
                    "ids unique in the catalog",
                    f"{scenario.id!r} also in {seen[scenario.id]}",
                    str(scenario.file),
                )
            )
        seen[scenario.id] = scenario.file
    if problems:
        raise ScenarioError(problems)
    return scenarios


def load_scenario(path: str | Path, *, policy: Policy | None = None) -> Scenario:
    """Load and validate one scenario file. ``policy`` replaces the file's ``policy:`` reference."""
    file = Path(path)
    reader = Fields(load_located(file))
    if reader.mapping((), TOP_KEYS) is None:
        reader.raise_if_problems()
    scenario_id = _read_id(reader, file)
    base_policy = _read_policy_file(reader, file, policy)
    resolved_policy = (
        read_policy(reader, ("policy_overrides",), base_policy)
        if reader.present(("policy_overrides",))
        else base_policy
    )
    controller = reader.get(("controller",), choice(sorted(CONTROLLERS)), DEFAULT_CONTROLLER)
    canary, manifest, rollout = _read_spec(reader, file, controller)
    stable = _read_revision(reader, ("stable",), "1.0.0")
    revision = _read_revision(reader, ("revision",), "1.1.0")
    if stable.version == revision.version:
        reader.add(
            ("revision", "version"),
            f"a version different from stable ({stable.version!r})",
            repr(revision.version),
        )
    scenario = Scenario(
        id=ScenarioId(scenario_id),
        description=reader.get(("description",), any_text(), ""),
        file=file,
        canary=canary,
        canary_manifest=manifest,
        rollout=rollout,
        stable=stable,
        revision=revision,
        fault=_read_fault(reader),
        load=read_load(reader),
        timing=read_timing(reader),
        expect=read_expectations(reader, resolved_policy),
        policy=resolved_policy,
        requires=_read_requires(reader),
        controller=controller,
    )
    _check_provider(reader, canary)
    reader.raise_if_problems()
    return scenario


def _read_spec(
    reader: Fields, file: Path, controller: str
) -> tuple[CanarySpec | None, dict[str, Any], RolloutBundle | None]:
    """(Canary, manifest as applied, Rollout bundle): a Canary for Flagger, a Rollout for Argo Rollouts."""
    if controller != ARGO_ROLLOUTS.name:
        if reader.present(("rollout",)):
            reader.add(("rollout",), f"no value: it needs controller: {ARGO_ROLLOUTS.name}", "a Rollout")
        canary, manifest = read_canary(reader, file)
        return canary, manifest, None
    for key in ("canary", "analysis", "progress_deadline_seconds", "provider"):
        if reader.present((key,)):
            reader.add((key,), "no value: a Flagger Canary field (the Rollout is the spec)", "a value")
    bundle = read_rollout(reader, file)
    manifest = dict(bundle.manifests[0]) if bundle is not None and bundle.manifests else {}
    return None, manifest, bundle


def _check_provider(reader: Fields, canary: CanarySpec | None) -> None:
    """``provider:`` names the Canary's ``spec.provider`` (default traefik); both must be one we emulate."""
    provider = reader.get(("provider",), choice(sorted(PROVIDERS)), None)
    if provider is not None and canary is not None and provider != canary.provider:
        reader.add(("provider",), f"the Canary's spec.provider ({canary.provider!r})", repr(provider))


def _read_id(reader: Fields, file: Path) -> str:
    pattern_text = "an id of lowercase letters, digits and '-'"
    if reader.present(("id",)):
        return reader.get(("id",), text(ID_PATTERN, pattern_text), file.stem)
    try:
        return text(ID_PATTERN, pattern_text).convert(file.stem)
    except ValueError:
        reader.add(("id",), f"{pattern_text} (the file name {file.name!r} is not one)", "nothing")
        return file.stem


def _read_requires(reader: Fields) -> tuple[Requirement, ...]:
    names = [
        reader.get(("requires", i), choice(REQUIREMENTS), None)
        for i, _ in enumerate(reader.items(("requires",)))
    ]
    return tuple(cast(Requirement, n) for n in names if n is not None)


def _read_policy_file(reader: Fields, file: Path, given: Policy | None) -> Policy:
    if given is not None:
        return given
    name = reader.get(("policy",), text(), None)
    candidate = (file.parent / name) if name else find_policy(file.parent)
    if candidate is None:
        return DEFAULT_POLICY
    if not candidate.is_file():
        reader.add(
            ("policy",),
            "a policy file relative to the scenario",
            f"{str(candidate)!r}, which is not an existing file",
        )
        return DEFAULT_POLICY
    try:
        return load_policy(candidate)
    except ScenarioError as exc:
        reader.problems.extend(exc.problems)
        return DEFAULT_POLICY


def _read_revision(reader: Fields, at: FieldPath, default_version: str) -> RevisionSpec:
    if not reader.present(at):
        return RevisionSpec(default_version)
    reader.mapping(at, ("version", "replicas", "faults"))
    version = reader.get(
        (*at, "version"),
        text(r"[A-Za-z0-9][A-Za-z0-9._+-]*", "a version string such as '1.1.0'"),
        default_version,
    )
    if isinstance(reader.raw((*at, "version")), int | float):
        version = str(reader.raw((*at, "version")))  # YAML reads 1.1 as a number; keep the user's text
    replicas = reader.get((*at, "replicas"), integer(1, 20), 1)
    return RevisionSpec(version, replicas, _read_faults(reader, (*at, "faults")))


def _read_faults(reader: Fields, at: FieldPath) -> tuple[Mapping[str, Any], ...]:
    if not reader.present(at):
        return ()
    items = reader.items(at)
    if not items:
        return ()
    try:
        parsed = parse_faults(items, source=f"{reader.located.file}:{render_path(at)}")
    except FaultConfigError as exc:
        for problem in exc.problems:
            where = join_path(at, problem.path)
            reader.add(where, problem.expected, problem.found)
        return ()
    return tuple(dump_faults(parsed))


def _read_fault(reader: Fields) -> FaultPlan | None:
    if not reader.present(("fault",)):
        return None
    if reader.mapping(("fault",), ("spec", "at", "duration_seconds"), required=("spec",)) is None:
        return None
    spec = _read_faults(reader, ("fault", "spec"))
    if reader.present(("fault", "spec")) and not reader.items(("fault", "spec"), non_empty=True):
        return None
    return FaultPlan(
        spec, _read_trigger(reader), reader.get(("fault", "duration_seconds"), duration(positive=True), None)
    )


def _read_trigger(reader: Fields) -> FaultTrigger:
    at: FieldPath = ("fault", "at")
    if not reader.present(at):
        return FaultTrigger()
    if reader.mapping(at, TRIGGER_KEYS) is None:
        return FaultTrigger()
    given = [key for key in TRIGGER_KEYS if reader.present((*at, key))]
    if len(given) != 1:
        found = "neither" if not given else "both " + " and ".join(given)
        reader.add(at, "exactly one of " + ", ".join(TRIGGER_KEYS), found)
        return FaultTrigger()
    if given == ["at_weight"]:
        return FaultTrigger(None, reader.get((*at, "at_weight"), integer(1, 100), 1))
    if given == ["phase"]:
        phase = reader.get((*at, "phase"), choice(FAULT_PHASES), "Promoting")
        return FaultTrigger(None, phase=cast(FaultPhase, phase))
    if given == ["after_detection"]:
        return FaultTrigger(None, after_detection=reader.get((*at, "after_detection"), duration(), 0.0))
    return FaultTrigger(reader.get((*at, "after_seconds"), duration(), 0.0), None)

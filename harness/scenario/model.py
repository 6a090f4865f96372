"""Frozen data types of a loaded scenario (pure). ``harness.scenario.loader`` builds them from YAML."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness.controllers.argo_rollouts.model import RolloutBundle
from harness.controllers.flagger.model import CanarySpec
from harness.controllers.registry import ControllerSpec
from harness.errors import InputError
from harness.model import Revision, ScenarioId
from harness.scenario.policy import Policy

Outcome = Literal["rolled-back", "promoted", "paused"]
RollbackCause = Literal["failed-checks", "progress-deadline", "manual-webhook"]
Requirement = Literal["prometheus", "kubernetes"]
FaultPhase = Literal["Progressing", "Promoting", "Finalising"]

OUTCOMES: tuple[Outcome, ...] = ("rolled-back", "promoted", "paused")
ROLLBACK_CAUSES: tuple[RollbackCause, ...] = ("failed-checks", "progress-deadline", "manual-webhook")
REQUIREMENTS: tuple[Requirement, ...] = ("prometheus", "kubernetes")
FAULT_PHASES: tuple[FaultPhase, ...] = ("Progressing", "Promoting", "Finalising")


@dataclass(frozen=True)
class RevisionSpec:
    """One pod-template revision of the faulty app (``stable`` = primary, ``revision`` = canary)."""

    version: str
    replicas: int = 1
    faults: tuple[Mapping[str, Any], ...] = field(default=(), hash=False)  # validated fault objects

    def as_revision(self) -> Revision:
        """The backend's view of this revision."""
        return Revision(version=self.version, faults=self.faults, replicas=self.replicas)


@dataclass(frozen=True)
class FaultTrigger:
    """When a run-time fault starts (exactly one is set): ``after_seconds`` after the trigger, at the first
    canary weight ≥ ``at_weight``, when the Canary first shows ``phase`` after the trigger, or
    ``after_detection`` seconds after the detection (the first Progressing status after the trigger)."""

    after_seconds: float | None = 0.0
    at_weight: int | None = None
    phase: FaultPhase | None = None
    after_detection: float | None = None


@dataclass(frozen=True)
class FaultPlan:
    """A fault switched on in the running canary through the admin API."""

    spec: tuple[Mapping[str, Any], ...] = field(hash=False)
    at: FaultTrigger = FaultTrigger()
    duration_seconds: float | None = None


@dataclass(frozen=True)
class Route:
    path: str
    method: str = "GET"
    weight: int = 1


@dataclass(frozen=True)
class Cohort:
    """A named fraction of synthetic users that send a header and/or cookie on every request."""

    name: str
    fraction: float
    header: tuple[tuple[str, str], ...] = ()
    cookie: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class LoadStage:
    duration_seconds: float
    rps: float


@dataclass(frozen=True)
class LoadProfile:
    """Load through the ingress: constant ``rps`` or a ``shape`` of stages (the last stage repeats)."""

    users: int = 10
    spawn_rate: float = 10.0
    rps: float | None = 50.0
    shape: tuple[LoadStage, ...] = ()
    routes: tuple[Route, ...] = (Route("/"),)
    cohorts: tuple[Cohort, ...] = ()
    workers: int = 0
    request_timeout_seconds: float = 5.0

    def rps_at(self, elapsed: float) -> float:
        """Target total requests/s at ``elapsed`` emulated seconds into the load."""
        if self.rps is not None:
            return self.rps
        start = 0.0
        for stage in self.shape:
            if elapsed < start + stage.duration_seconds:
                return stage.rps
            start += stage.duration_seconds
        return self.shape[-1].rps if self.shape else 0.0


@dataclass(frozen=True)
class Timing:
    """Emulated durations: warm-up (baseline) before the trigger, recovery watch after, hard cap."""

    warmup_seconds: float = 120.0
    recovery_seconds: float = 120.0
    max_duration_seconds: float = 1800.0


@dataclass(frozen=True)
class Expectations:
    """What must hold for GO; ``None`` limits are not judged. Policy fallbacks are already applied."""

    outcome: Outcome
    abort_within_seconds: float | None = None
    max_canary_weight: int | None = None
    max_failed_requests: int | None = None
    max_failed_fraction: float | None = None
    max_users_hurt: int | None = None
    recovery_within_seconds: float | None = None
    primary_untouched: bool = True
    rollback_cause: RollbackCause | None = None
    # outcome "paused": the controller holds the rollout (neither promoted nor rolled back) from at most
    # ``pause_within`` after fault onset to the end of the watch, with this pause reason when given
    pause_within_seconds: float | None = None
    pause_reason: str | None = None
    path: PathExpectations = field(default_factory=lambda: PathExpectations())


@dataclass(frozen=True)
class PathExpectations:
    """The controller's path, asserted instead of checked by hand (``harness.verdict_path``)."""

    weights_walked: tuple[int, ...] | None = None  # distinct canary weights > 0, in order
    first_failed_check_within_seconds: float | None = None  # fault onset → first failedChecks > 0
    failed_checks_path: tuple[int, ...] | None = None  # distinct failedChecks values up to the decision
    events_include: tuple[str, ...] = ()  # texts each found in some Flagger event after the trigger


@dataclass(frozen=True)
class Scenario:
    id: ScenarioId
    description: str
    file: Path
    canary: CanarySpec | None  # the Flagger Canary; None when the controller's spec is another kind
    canary_manifest: dict[str, Any] = field(compare=False, hash=False)  # the spec (Canary/Rollout) as applied
    stable: RevisionSpec = RevisionSpec("1.0.0")
    revision: RevisionSpec = RevisionSpec("1.1.0")
    fault: FaultPlan | None = None
    load: LoadProfile = LoadProfile()
    timing: Timing = Timing()
    expect: Expectations = Expectations("rolled-back")
    policy: Policy = field(default_factory=Policy)
    requires: tuple[Requirement, ...] = ()
    controller: str = "flagger"  # the controller under test (harness.controllers.registry)
    rollout: RolloutBundle | None = None  # controller: argo-rollouts: the Rollout and its templates

    @property
    def controller_spec(self) -> ControllerSpec:
        """The spec the controller under test runs: the Canary, or the Rollout bundle."""
        spec = self.rollout if self.controller == "argo-rollouts" else self.canary
        if spec is None:
            raise InputError(f"{self.file}: no spec for controller {self.controller}")
        return spec

    def flagger_canary(self) -> CanarySpec:
        """The Flagger Canary; an ``InputError`` for a scenario of another controller."""
        if self.canary is None:
            raise InputError(f"{self.file}: controller {self.controller} has no Flagger Canary")
        return self.canary

    @property
    def faults_from_start(self) -> bool:
        """The new revision carries faults in its pod template, so onset = the trigger."""
        return bool(self.revision.faults)

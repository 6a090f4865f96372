"""Walk a Rollout's canary steps for one fault: when each step starts and ends, how the update ends (pure).

Rules, all from docs/argo-rollouts-semantics.md:
- §2.1: a ``setWeight`` step completes as soon as its canary pods are available (``readiness`` seconds
  after a scale-up, else at once); a ``pause`` with a duration at ``start + duration``; ``pause: {}`` never;
  an ``analysis`` step when its run is Successful.
- §3.7: a Failed/Error step or background run aborts; an Inconclusive step run pauses for good.
- §5: the background run starts when step ``startingStep`` (0 when absent) becomes current and runs until
  it completes, the update is promoted (a measurement due at the promotion instant is still taken, the
  AnalysisRun reconciles first, §9 Example A) or aborted.
- §9 pitfall 6: after an Inconclusive *background* run, ``pause`` steps entered later complete at once,
  analysis steps entered later never start their run, and the update can still promote.
- §4 and §2 "Weight lags the step index by one reconcile": a weight is written in the reconcile pass
  after the one that made its step current; a run that decides on the measurements taken when it is
  created aborts one pass later, so a ``setWeight`` step completing in that pass still writes its
  successor's weight (``_weights_before``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from harness.controllers.argo_rollouts.model import (
    AnalysisStep,
    AnalysisTemplate,
    MetricSpec,
    PauseStep,
    RolloutAnalysis,
    RolloutSpec,
    SetWeightStep,
    step_string,
)
from harness.plan.rollout_runs import HEALTHY, Fault, RunOutcome, run_outcome

Outcome = Literal["promoted", "aborted", "paused", "degraded"]
_EPSILON = 1e-9


@dataclass(frozen=True)
class StepSpan:
    index: int
    label: str  # "setWeight: 20", "pause: 90s", "analysis" (CanaryStepString)
    start: float  # seconds after the update started (T0)
    end: float | None  # None: never completes
    weight: int  # canary weight once the step is current and ready
    scales_up: bool = False  # a setWeight that needs more canary pods: it completes one reconcile later


@dataclass(frozen=True)
class Write:
    """A TraefikService weight write at ``at``, by the completion of step ``index`` (−1: the update's start,
    ``len(steps)``: the last step done, weight 100)."""

    at: float
    index: int
    weight: int


@dataclass(frozen=True)
class Walk:
    outcome: Outcome
    decided_at: float | None  # promotion, abort, or when the update stalled; None: never
    cause: str
    steps: tuple[StepSpan, ...]
    writes: tuple[Write, ...]  # the weights written before the decision (not the abort's 0)
    background: RunOutcome | None
    step_runs: tuple[tuple[int, RunOutcome], ...]

    @property
    def weight_at_decision(self) -> int:
        return self.writes[-1].weight if self.writes else 0

    @property
    def max_weight(self) -> int:
        """Highest canary weight before promotion (the last step's 100 is the promotion itself)."""
        return max(
            (w.weight for w in self.writes if w.index < len(self.steps) or not self._promoted), default=0
        )

    @property
    def _promoted(self) -> bool:
        return self.outcome == "promoted"

    def measurements(self) -> tuple[float, ...]:
        runs = [run for _, run in self.step_runs] + ([self.background] if self.background else [])
        return tuple(sorted({t for run in runs for t in run.measured}))


def resolve_metrics(
    analysis: RolloutAnalysis, templates: Mapping[str, AnalysisTemplate]
) -> tuple[tuple[MetricSpec, bool], ...]:
    """The run's metrics flattened from its templates (§3.1), each with its dry-run flag (§1.2, §3.6)."""
    chosen = [templates[name] for name in analysis.templates if name in templates]
    rules = (*analysis.dry_run, *(rule for t in chosen for rule in t.dry_run))
    metrics = [m for t in chosen for m in t.metrics]
    return tuple((m, any(re.search(rule, m.name) for rule in rules)) for m in metrics)


def weight_for_index(spec: RolloutSpec, index: int) -> int:
    """§4 rules 5–6: the last setWeight at or before ``index``; 100 once every step is done."""
    if index >= len(spec.steps):
        return 100
    weights = [s.weight for s in spec.steps[: index + 1] if isinstance(s, SetWeightStep)]
    return weights[-1] if weights else 0


def walk(
    spec: RolloutSpec,
    templates: Mapping[str, AnalysisTemplate],
    fault: Fault = HEALTHY,
    *,
    readiness: float | None = 0.0,
) -> Walk:
    """The update from T0 under ``fault``; ``readiness`` None: the canary pods never become available."""
    first = _steps(spec, templates, fault, readiness, released=None)
    background = _background(spec, templates, fault, first)
    paused_at = background.at if background is not None and background.phase == "Inconclusive" else None
    if paused_at is not None and (first.decided_at is None or paused_at <= first.decided_at + _EPSILON):
        first = _steps(spec, templates, fault, readiness, released=paused_at)
    return _decide(spec, first, background)


@dataclass(frozen=True)
class _Steps:
    spans: tuple[StepSpan, ...]
    writes: tuple[Write, ...]
    step_runs: tuple[tuple[int, RunOutcome], ...]
    outcome: Outcome
    decided_at: float | None
    cause: str
    background_start: float | None
    abort_run: RunOutcome | None = None


def _steps(
    spec: RolloutSpec,
    templates: Mapping[str, AnalysisTemplate],
    fault: Fault,
    readiness: float | None,
    released: float | None,
) -> _Steps:
    background = spec.background
    starting = (background.starting_step or 0) if background is not None else None
    t, desired_before = 0.0, 0
    spans: list[StepSpan] = []
    writes = [Write(0.0, -1, 0)]
    runs: list[tuple[int, RunOutcome]] = []
    background_start: float | None = None

    def stop(outcome: Outcome, at: float | None, cause: str, run: RunOutcome | None = None) -> _Steps:
        return _Steps(tuple(spans), tuple(writes), tuple(runs), outcome, at, cause, background_start, run)

    for index, step in enumerate(spec.steps):
        if starting is not None and background_start is None and index >= starting:
            background_start = t
        label = step_string(step)
        weight = weight_for_index(spec, index)
        if spec.paused:
            spans.append(StepSpan(index, label, t, None, weight))
            return stop("paused", t, "spec.paused: true blocks every step")
        end: float | None
        previous_desired = desired_before
        if isinstance(step, SetWeightStep):
            desired = math.ceil(step.weight * spec.replicas / 100)
            if desired > desired_before:
                if readiness is None:
                    spans.append(StepSpan(index, label, t, None, weight))
                    deadline = t + spec.progress_deadline_seconds
                    cause = f"canary pods never available: progress deadline at step {index}"
                    outcome: Outcome = "aborted" if spec.progress_deadline_abort else "degraded"
                    return stop(outcome, deadline, cause)
                end = t + readiness
            else:
                end = t
            desired_before = max(desired_before, desired)
            writes.append(Write(end, index, step.weight))
        elif isinstance(step, PauseStep):
            if released is not None and t >= released - _EPSILON:
                end = t
            elif step.duration is None:
                spans.append(StepSpan(index, label, t, None, weight))
                return stop("paused", t, f"pause {{}} at step {index} waits for a human")
            else:
                end = t + step.duration
        else:
            assert isinstance(step, AnalysisStep)
            spans.append(StepSpan(index, label, t, None, weight))
            if released is not None and t >= released - _EPSILON:
                return stop("paused", t, f"step {index}: no analysis run while InconclusiveAnalysisRun")
            run = run_outcome(resolve_metrics(step.analysis, templates), t, fault, math.inf)
            runs.append((index, run))
            if run.phase in ("Failed", "Error"):
                return stop("aborted", run.at, f"step {index} analysis {run.phase}", run)
            if run.phase == "Inconclusive":
                return stop("paused", run.at, f"step {index} analysis Inconclusive: paused")
            if run.phase == "Running" or run.at is None:
                return stop("paused", None, f"step {index} analysis never completes (no count)")
            spans.pop()
            end = run.at
        scales_up = isinstance(step, SetWeightStep) and end is not None and desired_before > previous_desired
        spans.append(StepSpan(index, label, t, end, weight, scales_up))
        t = end
    writes.append(Write(t, len(spec.steps), 100))
    return stop("promoted", t, f"all {len(spec.steps)} steps completed")


def _background(
    spec: RolloutSpec, templates: Mapping[str, AnalysisTemplate], fault: Fault, steps: _Steps
) -> RunOutcome | None:
    if spec.background is None or steps.background_start is None:
        return None
    if steps.outcome in ("promoted", "aborted") and steps.decided_at is not None:
        horizon = steps.decided_at
    else:
        horizon = math.inf
    metrics = resolve_metrics(spec.background, templates)
    return run_outcome(metrics, steps.background_start, fault, horizon)


def _decide(spec: RolloutSpec, steps: _Steps, background: RunOutcome | None) -> Walk:
    outcome, at, cause = steps.outcome, steps.decided_at, steps.cause
    abort_run = steps.abort_run if outcome == "aborted" else None
    step_index = next((i for i, run in steps.step_runs if run is abort_run), None)
    failed = background is not None and background.phase in ("Failed", "Error")
    if (
        failed
        and background is not None
        and background.at is not None
        and _background_first(outcome, at, background.at)
    ):
        outcome, at, cause = "aborted", background.at, f"background analysis {background.phase}"
        abort_run, step_index = background, None
    if outcome == "aborted" and abort_run is not None and at is not None:
        writes = _weights_before(spec, steps, at, abort_run, step_index)
    elif at is None:
        writes = steps.writes
    else:
        writes = tuple(w for w in steps.writes if w.at <= at + _EPSILON)
    return Walk(outcome, at, cause, steps.spans, writes, background, steps.step_runs)


def _background_first(outcome: Outcome, decided_at: float | None, background_at: float) -> bool:
    """Does a Failed/Error background run abort before the steps decide? At the promotion instant it does
    (the AnalysisRun reconciles first); a step run deciding at the same instant is seen first."""
    if decided_at is None or outcome in ("paused", "degraded"):
        return True
    if outcome == "promoted":
        return background_at <= decided_at + _EPSILON
    return background_at < decided_at - _EPSILON


def _weights_before(
    spec: RolloutSpec, steps: _Steps, at: float, run: RunOutcome, step_index: int | None
) -> tuple[Write, ...]:
    """Weights written before an analysis abort at ``at`` (see the module docstring)."""
    earlier = [w for w in steps.writes if w.at < at - _EPSILON]
    if not run.decided_at_creation:
        # decided when the AnalysisRun reconciles at ``at``, before any step moves: only the weight of the
        # step current at that reconcile can still be written (its pods became available at ``at``)
        current = _current_index(steps, at)
        return (*earlier, *(w for w in steps.writes if abs(w.at - at) < _EPSILON and w.index == current))
    created_at = step_index if step_index is not None else _index_starting(spec)
    same = [w for w in steps.writes if abs(w.at - at) < _EPSILON and w.index <= created_at]
    spans = {s.index: s for s in steps.spans}
    created = spans.get(created_at)
    # a setWeight whose pods were already there completes in the pass that created the run, so the next
    # pass (the one recording the abort) writes the following step's weight, unless that one scales up
    if (
        created is not None
        and isinstance(spec.steps[created_at], SetWeightStep)
        and not created.scales_up
        and created.end is not None
        and abs(created.end - at) < _EPSILON
    ):
        following = spans.get(created_at + 1)
        if following is None or not following.scales_up:
            weight = weight_for_index(spec, created_at + 1)
            if weight != (same or earlier or [Write(0.0, -1, 0)])[-1].weight:
                same.append(Write(at, created_at + 1, weight))
    return (*earlier, *same)


def _current_index(steps: _Steps, at: float) -> int:
    started = [s.index for s in steps.spans if s.start < at - _EPSILON]
    return started[-1] if started else 0


def _index_starting(spec: RolloutSpec) -> int:
    """The step current when the background run was created: ``startingStep`` (§5)."""
    return (spec.background.starting_step or 0) if spec.background is not None else 0

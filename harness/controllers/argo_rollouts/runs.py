"""The AnalysisRun controller's side of the emulation: create, settle and cancel the runs of one Rollout.

Keeps every run by name (latest state) and every measurement taken, as evidence for reports.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from harness.controllers.argo_rollouts.analysis_run import (
    AnalysisRunState,
    Measure,
    ResolvedMetric,
    RunKind,
    settle,
    take_measurement,
    terminate,
)
from harness.controllers.argo_rollouts.model import (
    AnalysisTemplate,
    Measurement,
    RolloutAnalysis,
    RolloutEvent,
    RolloutSpec,
    RolloutStatus,
)
from harness.controllers.argo_rollouts.ports import PrometheusQueries
from harness.controllers.argo_rollouts.run_factory import ArgContext, create_run, run_name


class AnalysisRuns:
    def __init__(
        self,
        spec: RolloutSpec,
        templates: Mapping[str, AnalysisTemplate],
        prometheus: PrometheusQueries,
        record: Callable[[RolloutEvent], None],
        revision: int,
    ) -> None:
        self._spec = spec
        self._templates = dict(templates)
        self._prometheus = prometheus
        self._record = record
        self._revision = revision
        self.by_name: dict[str, AnalysisRunState] = {}
        self.measurements: list[tuple[str, str, Measurement]] = []  # (run, metric, measurement)

    def create(
        self,
        kind: RunKind,
        analysis: RolloutAnalysis,
        step_index: int | None,
        status: RolloutStatus,
        now: float,
    ) -> AnalysisRunState:
        """``createAnalysisRun``; the AnalysisRun controller reconciles it at once."""
        spec = self._spec
        context = ArgContext(spec.name, spec.namespace, status.stable_rs, status.current_pod_hash)
        name = run_name(spec.name, status.current_pod_hash, self._revision, step_index)
        run = create_run(name, kind, analysis, self._templates, context, now=now, step_index=step_index)
        return self.settle(run, now)

    def cancel(self, run: AnalysisRunState | None, now: float) -> AnalysisRunState | None:
        """``cancelAnalysisRuns``: terminate and let the run complete; returns the completed run."""
        if run is None or run.phase.completed:
            return run
        return self.settle(terminate(run), now)

    def settle(self, run: AnalysisRunState, now: float) -> AnalysisRunState:
        settled, events = settle(run, now, self._measure_for(run))
        for event in events:
            self._record(event)
        self.by_name[settled.name] = settled
        return settled

    def _measure_for(self, run: AnalysisRunState) -> Measure:
        def measure(metric: ResolvedMetric, now: float) -> Measurement:
            measurement = take_measurement(metric, now, self._prometheus)
            self.measurements.append((run.name, metric.name, measurement))
            return measurement

        return measure

"""The argo-rollouts plug-in on the seam's ports: initialisation, update, status mapping, events, checks."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import pytest

from harness.clock import FakeClock
from harness.controllers.argo_rollouts.plugin import ARGO_ROLLOUTS, ArgoRolloutsEmulation, local_target
from harness.controllers.base import EmulationPorts
from harness.controllers.flagger.model import Phase, TickRecord
from harness.controllers.registry import controller_named
from harness.errors import InputError, NoValuesFound
from harness.scenario.argo_rollout import parse_bundle
from harness.testing.ports import FakeRouter, FakeWebhooks, FakeWorkloads, RecordingEventSink

from .rig import manifests


class ScriptedMetrics:
    """A ``MetricsProvider`` answering every query with ``answer(now)`` (an exception is raised)."""

    def __init__(self, clock: FakeClock, answer: Callable[[float], float | Exception]) -> None:
        self._clock, self._answer = clock, answer
        self.queries: list[str] = []

    def is_online(self) -> bool:
        return True

    def query(self, promql: str) -> float:
        self.queries.append(promql)
        value = self._answer(self._clock.now())
        if isinstance(value, Exception):
            raise value
        return value


class Rig:
    def __init__(self, answer: Callable[[float], float | Exception], **rollout: object) -> None:
        self.clock = FakeClock(0.0)
        self.router = FakeRouter(self.clock)
        self.workloads = FakeWorkloads(self.clock, target="podinfo", template_hash="rev-1")
        self.metrics = ScriptedMetrics(self.clock, answer)
        self.sink = RecordingEventSink()
        bundle = parse_bundle(manifests(rollout or None), "rollout.yaml")
        ports = EmulationPorts(
            self.router, self.workloads, self.metrics, FakeWebhooks(self.clock), self.clock, self.sink
        )
        self.emulation = ARGO_ROLLOUTS.emulate(bundle, ports)
        assert isinstance(self.emulation, ArgoRolloutsEmulation)
        self.records: list[TickRecord] = []

    def run(self, seconds: float) -> None:
        for _ in range(int(seconds)):
            self.records.append(self.emulation.tick())
            self.clock.advance(1.0)

    def update(self) -> None:
        self.workloads.set_template("rev-2")

    def phases(self) -> list[Phase]:
        seen: list[Phase] = []
        for record in self.records:
            if not seen or seen[-1] != record.status.phase:
                seen.append(record.status.phase)
        return seen


def test_the_plugin_is_registered_with_a_one_second_grid() -> None:
    plugin = controller_named("argo-rollouts")
    bundle = parse_bundle(manifests(), "rollout.yaml")
    assert (plugin.kind, plugin.api_version, plugin.tick_interval_seconds(bundle)) == (
        "Rollout",
        "argoproj.io/v1alpha1",
        1.0,
    )
    assert plugin.timing_of(bundle).interval_seconds == 60.0  # the template's 1m interval


def test_a_flagger_spec_is_refused_by_the_argo_plugin() -> None:
    from tests.flagger.rig import canary

    with pytest.raises(InputError, match=r"controller argo-rollouts: expected a Rollout spec"):
        ARGO_ROLLOUTS.spec_of(canary())


def test_initialisation_routes_everything_to_the_stable_replicaset() -> None:
    rig = Rig(lambda _now: 0.99)
    rig.run(3)
    assert rig.emulation.status.phase == Phase.INITIALIZED
    assert rig.router.get_routes() == (100, 0)
    assert ("scale_canary", 0) in [(name, value) for _, name, value in rig.workloads.calls]


def test_a_healthy_update_walks_the_weights_and_succeeds() -> None:
    rig = Rig(lambda _now: 0.99)
    rig.run(2)
    rig.update()
    rig.run(600)
    assert rig.phases() == [Phase.INITIALIZED, Phase.PROGRESSING, Phase.SUCCEEDED]
    weights = [canary for _, _, canary in rig.router.history]
    assert weights[:6] == [0, 0, 20, 40, 60, 80]  # init write, update write, then the four setWeights
    assert rig.emulation.status.failed_checks == 0
    assert any(call[1] == "promote" for call in rig.workloads.calls)


def test_failing_measurements_abort_as_failed_with_argo_reasons() -> None:
    rig = Rig(lambda _now: 0.42)
    rig.run(2)
    rig.update()
    rig.run(400)
    assert rig.phases() == [Phase.INITIALIZED, Phase.PROGRESSING, Phase.FAILED]
    final = rig.emulation.status
    assert (final.canary_weight, final.failed_checks) == (0, 3)  # failureLimit 2: the third failure
    reasons = {event.reason for event in rig.sink.events}
    assert {"RolloutAborted", "AnalysisRunFailed", "TrafficWeightUpdated"} <= reasons
    aborted = next(e for e in rig.sink.events if e.reason == "RolloutAborted")
    assert aborted.type == "Warning"
    assert aborted.phase == Phase.FAILED
    checks = [check for record in rig.records for check in record.checks]
    assert [c.passed for c in checks] == [False, False, False]
    assert checks[0].metric == "success-rate"
    assert checks[0].value == pytest.approx(0.42)
    assert "traefik_service_requests_total" in checks[0].query


def test_a_nan_sample_is_a_value_and_an_empty_vector_is_none() -> None:
    answers: list[float | Exception] = [NoValuesFound(nan=True), NoValuesFound()]
    rig = Rig(lambda _now: answers.pop(0) if answers else 0.99)
    rig.run(2)
    rig.update()
    rig.run(70)
    checks = [check for record in rig.records for check in record.checks]
    assert checks[0].value is not None
    assert math.isnan(checks[0].value)
    assert checks[0].passed is False
    assert checks[0].error is None
    assert checks[1].value is None
    assert "index out of range" in (checks[1].error or "")


def test_the_local_target_is_the_canary_service_without_its_suffix() -> None:
    bundle = parse_bundle(manifests(), "rollout.yaml")
    target = local_target(bundle)
    assert (target.service, target.workload, target.namespace, target.provider) == (
        "podinfo",
        "podinfo",
        "test",
        "traefik",
    )
    odd = dataclasses.replace(bundle, rollout=dataclasses.replace(bundle.rollout, canary_service="preview"))
    with pytest.raises(InputError, match=r"canaryService: the local backend expects '<name>-canary'"):
        local_target(odd)

"""Flagger's own A/B Canary (Gateway API tutorial, v1.44.0) through ``runAB`` on a FakeClock.

The Canary in tests/data/canaries/gatewayapi-ab-tutorial.yaml is the tutorial's, unchanged; it names no
``spec.provider`` and loads with Flagger's mesh provider ``gatewayapi:v1beta1``. The router is the
in-memory Gateway API router, so each tick's HTTPRoute is Flagger's and the cohort boundary is checked
per request: Firefox users and ``type=insider`` cookies reach the canary during the iterations, no one
else ever does, and promotion or rollback routes everyone to the primary.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.clock import FakeClock
from harness.controllers.flagger.controller import FlaggerController
from harness.controllers.flagger.gateway_api import exposure_problems
from harness.controllers.flagger.model import CanarySpec, Phase
from harness.controllers.flagger.queries import builtin_query
from harness.errors import MetricsError, NoValuesFound
from harness.scenario.flagger_canary import load_canary, parse_canary
from harness.scenario.metric_templates import load_metric_templates
from harness.testing.http_route import FakeHTTPRouteRouter
from harness.testing.ports import FakeWebhooks, FakeWorkloads, HookScript, RecordingEventSink
from tests.flagger.rig import Rig, make_rig
from tests.flagger.rig import canary as rig_canary

TUTORIAL = Path(__file__).parents[1] / "data" / "canaries" / "gatewayapi-ab-tutorial.yaml"
FIREFOX = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"}
INSIDER = {"cookie": "type=insider"}
CHROME = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36"}
HOST = {"host": "www.example.com"}  # service.hosts: a request for another host matches no rule


@dataclass
class TemplateMetrics:
    """The tutorial's two templates: error-rate (percent) and latency (seconds), by series name."""

    error_rate: float = 0.0
    latency_seconds: float = 0.1

    def is_online(self) -> bool:
        return True

    def query(self, promql: str) -> float:
        if "istio_requests_total" in promql:
            return self.error_rate
        if "istio_request_duration_milliseconds_bucket" in promql:
            return self.latency_seconds
        raise MetricsError(f"unexpected query {promql!r}")


@dataclass
class Run:
    spec: CanarySpec
    clock: FakeClock
    router: FakeHTTPRouteRouter
    workloads: FakeWorkloads
    metrics: TemplateMetrics
    webhooks: FakeWebhooks
    sink: RecordingEventSink
    controller: FlaggerController

    def until(self, *phases: Phase, max_ticks: int = 40) -> None:
        self.controller.run(lambda record: record.status.phase in phases, max_ticks)
        assert self.controller.status.phase in phases, self.messages()

    def messages(self) -> list[str]:
        return [e.message for e in self.sink.events]

    def reaches(self, headers: Mapping[str, str]) -> str | None:
        return self.router.backend_for({**HOST, **headers})


def tutorial_spec() -> CanarySpec:
    return load_canary(TUTORIAL, mesh_provider="gatewayapi:v1beta1")


def start(spec: CanarySpec, hooks: Mapping[str, HookScript] | None = None) -> Run:
    clock = FakeClock()
    router = FakeHTTPRouteRouter(spec, clock)
    router.set_routes(100, 0)  # Reconcile creates the route during initialization
    workloads = FakeWorkloads(clock, target=spec.target_name)
    metrics = TemplateMetrics()
    webhooks = FakeWebhooks(clock, dict(hooks or {}))
    sink = RecordingEventSink()
    templates = load_metric_templates(TUTORIAL)
    controller = FlaggerController(
        spec,
        router=router,
        workloads=workloads,
        metrics=metrics,
        webhooks=webhooks,
        clock=clock,
        events=sink,
        templates={t.key: t for t in templates},
    )
    run = Run(spec, clock, router, workloads, metrics, webhooks, sink, controller)
    run.until(Phase.INITIALIZED, max_ticks=10)
    workloads.set_template("rev-2")
    return run


class TestTheTutorialCanaryLoads:
    def test_it_loads_unchanged_with_the_mesh_provider(self) -> None:
        spec = tutorial_spec()
        assert spec.provider == "gatewayapi:v1beta1"
        assert (spec.name, spec.namespace, spec.target_name) == ("podinfo", "test", "podinfo")
        assert spec.analysis.iterations == 10
        assert spec.analysis.threshold == 2
        assert len(spec.analysis.match) == 2
        assert [m.name for m in spec.analysis.metrics] == ["error-rate", "latency"]
        assert {t.key for t in load_metric_templates(TUTORIAL)} == {
            "latency.flagger-system",
            "error-rate.flagger-system",
        }

    def test_without_a_mesh_provider_it_is_a_traefik_canary(self) -> None:
        """The default mesh provider is traefik, where the same match means 100 % exposure (§2.11)."""
        assert load_canary(TUTORIAL).provider == "traefik"

    def test_its_cohort_is_bounded(self) -> None:
        """Both entries have headers (regex): Flagger maps them, nothing widens rule 1."""
        assert exposure_problems(tutorial_spec()) == ()


class TestRunAB:
    def test_iterations_route_only_the_cohort_then_promote(self) -> None:
        """Ten iterations at 0/100 inside the cohort; outside it the primary; then promotion."""
        run = start(tutorial_spec())
        run.until(Phase.PROGRESSING)
        seen_cohort: set[str | None] = set()
        seen_others: set[str | None] = set()
        while run.controller.status.phase == Phase.PROGRESSING:
            run.controller.run(lambda record: True, 1)
            if run.router.get_routes() == (0, 100):
                seen_cohort |= {run.reaches(FIREFOX), run.reaches(INSIDER)}
                seen_others |= {run.reaches(CHROME), run.reaches({"cookie": "type=outsider"})}
        assert seen_cohort == {"podinfo-canary"}
        assert seen_others == {"podinfo-primary"}
        run.until(Phase.SUCCEEDED)
        messages = run.messages()
        assert [m for m in messages if "iteration" in m] == [
            f"Advance podinfo.test canary iteration {i}/10" for i in range(1, 11)
        ]
        assert "Copying podinfo.test template spec to podinfo-primary.test" in messages
        assert "Promotion completed! Scaling down podinfo.test" in messages
        assert run.router.get_routes() == (100, 0)
        assert run.reaches(FIREFOX) == "podinfo-primary"
        assert run.reaches({}) == "podinfo-primary"

    def test_a_request_for_another_host_matches_no_rule(self) -> None:
        """service.hosts becomes hostnames: on a mesh a client using the Service name gets a 404."""
        run = start(tutorial_spec())
        run.until(Phase.PROGRESSING)
        assert run.router.backend_for({"host": "podinfo.test", **FIREFOX}) is None

    def test_failing_checks_roll_back_after_the_threshold(self) -> None:
        """error-rate above 1 % on every iteration: threshold 2 → Failed, the cohort back on the primary."""
        run = start(tutorial_spec())
        run.until(Phase.PROGRESSING)
        run.metrics.error_rate = 50.0
        run.until(Phase.FAILED)
        assert run.controller.status.iterations < 10
        assert any("failed checks threshold reached 2" in m for m in run.messages())
        assert run.router.get_routes() == (100, 0)
        assert run.reaches(FIREFOX) == "podinfo-primary"

    @pytest.mark.parametrize("approve_after", [3])
    def test_confirm_promotion_holds_the_cohort_on_the_canary(self, approve_after: int) -> None:
        """A confirm-promotion gate after the last iteration: WaitingPromotion keeps the A/B route
        (cohort on the canary), approval promotes."""
        manifest = copy.deepcopy(tutorial_spec().manifest)
        manifest["spec"]["analysis"]["webhooks"].append(
            {"name": "approve", "type": "confirm-promotion", "url": "http://gate.test/"}
        )
        spec = parse_canary(manifest, str(TUTORIAL), mesh_provider="gatewayapi:v1beta1")
        answers = [False] * approve_after + [True]
        run = start(spec, {"approve": answers})
        run.until(Phase.WAITING_PROMOTION)
        assert run.router.get_routes() == (0, 100)
        assert run.reaches(INSIDER) == "podinfo-canary"
        assert run.reaches(CHROME) == "podinfo-primary"
        run.until(Phase.SUCCEEDED)
        assert [c.name for c in run.webhooks.calls].count("approve") == approve_after + 1
        assert run.reaches(INSIDER) == "podinfo-primary"


class TestGatewayAPIBuiltins:
    """On gatewayapi:* the builtins are the HttpObserver's: duration in seconds, events name the provider."""

    def rig_with(self, success: object, duration: object) -> Rig:
        service = {"port": 80, "targetPort": 9898, "gatewayRefs": [{"name": "podinfo", "kind": "Service"}]}
        spec = rig_canary(provider="gatewayapi:v1beta1", service=service)
        metrics = {
            builtin_query("request-success-rate", spec, "1m"): success,
            builtin_query("request-duration", spec, "1m"): duration,
        }
        rig = make_rig(spec, metrics=metrics)
        rig.initialized()
        rig.new_revision()
        return rig

    def test_duration_is_seconds_times_1000(self) -> None:
        """0.6 s from http_request_duration_seconds is 600ms > 500ms (truncating it would read 0ms)."""
        rig = self.rig_with(100.0, 0.6)
        rig.ticks(3)
        messages = [e.message for e in rig.sink.events]
        assert "Halt podinfo.test advancement request duration 600ms > 500ms" in messages
        assert rig.controller.status.failed_checks >= 1

    def test_a_fast_canary_passes(self) -> None:
        rig = self.rig_with(100.0, 0.2)
        rig.ticks(3)
        assert rig.controller.status.failed_checks == 0
        assert rig.controller.status.canary_weight > 0

    def test_no_values_names_the_canarys_provider(self) -> None:
        """Flagger's metricsProvider is the Canary's provider (was hard-wired to traefik)."""
        rig = self.rig_with(NoValuesFound("no values found"), 0.2)
        rig.ticks(3)
        assert any(
            e.message.startswith("Halt advancement no values found for gatewayapi:v1beta1 metric")
            for e in rig.sink.events
        )

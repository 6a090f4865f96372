"""Each trap the planner finds in a Canary spec (flagger-semantics §2.5, §2.11, §5.4, §9)."""

from __future__ import annotations

import math

import pytest

from harness.controllers.flagger.queries import MetricTemplate
from harness.plan.planner import plan
from harness.scenario.policy import Policy

from ..flagger.rig import canary
from .emulate import emulate
from .test_worked_examples import LENIENT


def codes(spec, **kwargs):
    kwargs.setdefault("policy", LENIENT)
    kwargs.setdefault("rps", 100)
    return {t.code: t for t in plan(spec, **kwargs).traps}


def metric(**fields):
    return {"metrics": [{"thresholdRange": {"max": 1}, **fields}]}


class TestWeightTraps:
    def test_overshoot_when_step_does_not_divide_max(self):
        """maxWeight 50, stepWeight 20 → 20/40/60: the trap, and the controller really reaches 60 %."""
        spec = canary({"maxWeight": 50, "stepWeight": 20})
        trap = codes(spec)["maxweight-overshoot"]
        assert "60 %" in trap.message
        assert "20/40/60" in trap.message
        assert "stepWeight 20 → 10" in trap.remedy
        assert "maxWeight 50 → 40" in trap.remedy
        assert plan(spec, rps=100, policy=LENIENT).reachable_weight == 60 == emulate(spec).max_weight

    def test_no_overshoot_when_step_divides_max(self):
        """10/50 and stepWeights never overshoot."""
        assert "maxweight-overshoot" not in codes(canary())
        assert "maxweight-overshoot" not in codes(canary({"stepWeights": [5, 30], "stepWeight": None}))

    def test_stalled_step_weight_zero(self):
        """stepWeight 0 never advances: error trap, no decision."""
        spec = canary({"stepWeight": 0})
        assert codes(spec)["stalled"].severity == "error"
        assert plan(spec, rps=100, policy=LENIENT).healthy.outcome == "undecided"


class TestBlindWindow:
    def test_fault_after_promotion_tick_is_never_rolled_back(self):
        """A fault in [promotion tick − δ, Finalising) escapes: predicted and emulated Succeeded."""
        spec = canary()
        predicted = plan(spec, rps=100, policy=LENIENT, detection_delay=30.0, check_delay=0.0)
        blind = predicted.blind
        assert blind is not None
        assert (blind.opens_at, blind.closes_at) == (360.0, 420.0)
        assert codes(spec)["post-promotion-blind"].severity == "info"
        observed = emulate(spec, lambda emulation, now: now >= emulation.p0 + 365.0)
        assert observed.outcome == "promoted"
        assert blind.bad_requests == pytest.approx(100 * 0.5 * 60)


class TestMetricTraps:
    def test_template_metric_without_interval_fails_every_check(self):
        """templateRef without interval (§5.4): error trap, a healthy canary is predicted rolled back."""
        spec = canary(metric(name="errors", templateRef={"name": "errors"}))
        assert codes(spec)["template-metric-no-interval"].severity == "error"
        healthy = plan(spec, rps=100, policy=LENIENT).healthy
        assert (healthy.outcome, healthy.decided_tick) == ("rolled-back", 7)

    def test_service_name_different_from_target(self):
        """service.name 'web' ≠ target 'podinfo' with builtin metrics: the query misses (issue #1767)."""
        spec = canary(service={"name": "web", "port": 80})
        trap = codes(spec)["service-name-mismatch"]
        assert "test-podinfo-canary" in trap.message
        assert plan(spec, rps=100, policy=LENIENT).healthy.outcome == "rolled-back"
        assert "service-name-mismatch" not in codes(canary(service={"name": "podinfo", "port": 80}))

    def test_metric_without_query_or_template(self):
        """A custom metric with neither query nor templateRef fails every check (#1581)."""
        assert codes(canary(metric(name="custom")))["metric-without-query"].severity == "error"

    @pytest.mark.parametrize(
        "query",
        [
            'sum(rate(traefik_service_requests_total{code=~"5.."}[1m]))',
            'sum(rate(x{code="500"}[1m])) / sum(rate(x[1m])) * 100',
            'sum(rate(x{code=~"4..|5.."}[{{ interval }}]))',
        ],
    )
    def test_error_only_inline_query(self, query):
        """An inline query on error codes only, without 'or vector(0)', has no data when healthy."""
        assert "error-only-query" in codes(canary(metric(name="errors", query=query)))

    @pytest.mark.parametrize(
        "query",
        [
            'sum(rate(x{code=~"5.."}[1m])) or vector(0)',
            'sum(rate(x{code=~"5.."}[1m])) or on() vector(0)',
            'sum(rate(x{code!~"5.."}[1m])) / sum(rate(x[1m]))',
            'sum(rate(x{code=~"2..|5.."}[1m]))',
        ],
    )
    def test_queries_that_return_data_when_healthy(self, query):
        """Fallbacks, negative matchers and success codes are not error-only."""
        assert "error-only-query" not in codes(canary(metric(name="errors", query=query, interval="1m")))

    def test_error_only_template_with_variables(self):
        """A visible MetricTemplate whose code matcher comes from templateVariables."""
        template = MetricTemplate(
            "errors", "test", "prometheus", "", 'sum(rate(x{code=~"{{ variables.codes }}"}[1m]))'
        )
        spec = canary(
            metric(
                name="errors",
                templateRef={"name": "errors"},
                interval="1m",
                templateVariables={"codes": "5.."},
            )
        )
        assert "error-only-query" in codes(spec, templates=[template])
        assert "error-only-query" not in codes(spec)  # the template is not visible


class TestStrategyTraps:
    @pytest.mark.parametrize(
        ("overrides", "code"),
        [
            ({"iterations": 5, "match": [{"headers": {"x": {"exact": "1"}}}]}, "ab-testing-on-traefik"),
            ({"iterations": 5}, "blue-green-on-traefik"),
            ({"mirror": True}, "mirroring-on-traefik"),
        ],
    )
    def test_traefik_unsupported_strategies(self, overrides, code):
        """A/B (match), Blue/Green (iterations) and mirroring are errors with Traefik (§2.11)."""
        analysis = dict(overrides)
        if "iterations" in analysis:
            analysis |= {"stepWeight": None, "maxWeight": None}
        assert codes(canary(analysis))[code].severity == "error"

    def test_skip_analysis_and_suspend(self):
        """skipAnalysis promotes without checks (error); suspend never runs (warning)."""
        skipped = plan(canary(skipAnalysis=True), rps=100, policy=LENIENT)
        assert {t.code for t in skipped.traps} == {"skip-analysis"}
        assert (skipped.healthy.outcome, skipped.from_start.outcome) == ("promoted", "promoted")
        assert codes(canary(suspend=True))["suspended"].severity == "warning"

    def test_other_provider_is_informational(self):
        """A non-Traefik provider is planned with the generic timing and an info trap."""
        assert codes(canary(provider="istio"))["provider-not-traefik"].severity == "info"

    def test_ab_on_gateway_api_is_not_a_traefik_trap(self):
        """Linkerd (gatewayapi:v1beta1) honours match: no Traefik trap, no 'not emulated' note."""
        service = {"port": 80, "gatewayRefs": [{"name": "podinfo", "kind": "Service"}]}
        ab = {"iterations": 5, "match": [{"headers": {"x": {"exact": "1"}}}], "stepWeight": None}
        found = codes(canary(ab, provider="gatewayapi:v1beta1", service=service))
        assert not {"ab-testing-on-traefik", "provider-not-traefik"} & set(found)
        assert "ab-testing-on-traefik" in codes(canary(ab))


GATEWAY_SERVICE = {"port": 80, "gatewayRefs": [{"name": "podinfo", "kind": "Service", "group": "core"}]}


def on_linkerd(analysis=None, **spec):
    return canary(analysis, provider="gatewayapi:v1beta1", service=GATEWAY_SERVICE, **spec)


SUCCESS_RATE_TEMPLATE = {
    "name": "success-rate",
    "templateRef": {"name": "success-rate"},
    "interval": "1m",
    "thresholdRange": {"min": 99},
    "templateVariables": {"direction": "inbound"},
}


class TestBuiltinMetricsOnGatewayApi:
    """gatewayapi:* answers the builtins with the HttpObserver (the app's series, not Linkerd's, §2)."""

    @pytest.mark.parametrize("provider", ["gatewayapi:v1beta1", "gatewayapi:v1"])
    def test_each_builtin_is_an_error_that_fails_every_check(self, provider):
        """Both builtins of the rig's Canary: one trap each, with index, name, provider and the fix."""
        spec = canary(provider=provider, service=GATEWAY_SERVICE)
        predicted = plan(spec, rps=100, policy=LENIENT)
        traps = [t for t in predicted.traps if t.code == "builtin-metric-on-gateway-api"]
        assert [t.severity for t in traps] == ["error", "error"]
        first, second = traps
        assert "analysis.metrics[0] 'request-success-rate'" in first.message
        assert "analysis.metrics[1] 'request-duration'" in second.message
        assert f"on provider {provider}" in first.message
        assert "no values found" in first.message
        assert "rolled back after threshold 5" in first.message
        assert "'success-rate' MetricTemplate over response_total" in first.remedy
        assert "response_latency_ms_bucket" in second.remedy
        assert (predicted.healthy.outcome, predicted.verdict) == ("rolled-back", "NO-GO")
        assert "service-name-mismatch" not in {t.code for t in predicted.traps}  # a Traefik query trap

    def test_the_tutorial_templates_set_no_trap(self):
        """Named success-rate with templateRef (the shipped Linkerd Canary): no trap, promoted."""
        spec = on_linkerd({"metrics": [SUCCESS_RATE_TEMPLATE]})
        predicted = plan(spec, rps=100, policy=LENIENT)
        assert "builtin-metric-on-gateway-api" not in {t.code for t in predicted.traps}
        assert predicted.healthy.outcome == "promoted"

    def test_a_builtin_name_with_a_template_ref_still_runs_the_builtin(self):
        """Flagger picks the builtin by name: a templateRef on request-success-rate does not help."""
        metric = SUCCESS_RATE_TEMPLATE | {"name": "request-success-rate"}
        (trap,) = [
            t for t in plan(on_linkerd({"metrics": [metric]}), rps=100).traps if t.code.startswith("builtin")
        ]
        assert "the name alone selects it" in trap.message

    def test_skip_analysis_hides_it(self):
        """With skipAnalysis nothing runs: the trap says nothing guards (skip-analysis is reported too)."""
        found = codes(on_linkerd(skipAnalysis=True))
        assert "nothing guards" in found["builtin-metric-on-gateway-api"].message
        assert "skip-analysis" in found

    def test_traefik_builtins_are_not_flagged(self):
        """On Traefik the builtins read the router's own series."""
        assert "builtin-metric-on-gateway-api" not in codes(canary())


class TestIntervalTraps:
    def test_interval_below_ten_seconds_is_raised(self):
        """interval 5s runs every 10 s (issue #658)."""
        spec = canary({"interval": "5s"})
        assert "interval-raised" in codes(spec)
        assert plan(spec, rps=100, policy=LENIENT).interval == 10.0

    def test_unparsable_interval_falls_back_to_a_minute(self):
        """'1m30' passes the CRD pattern but not Go's parser: 60 s."""
        spec = canary({"interval": "1m30"})
        assert "interval-invalid" in codes(spec)
        assert plan(spec, rps=100, policy=LENIENT).interval == 60.0


class TestAnalysisTraps:
    def test_no_metrics_and_no_rollout_hooks_can_never_fail(self):
        """Nothing can fail a check: error trap, and a fault is never rolled back."""
        spec = canary({"metrics": [], "webhooks": []})
        predicted = plan(spec, rps=100, policy=LENIENT)
        assert codes(spec)["no-metrics"].severity == "error"
        assert predicted.from_start.outcome == "promoted"
        assert predicted.verdict == "NO-GO"

    def test_no_metrics_with_rollout_hooks_is_a_warning(self):
        """Only rollout webhooks can fail the analysis."""
        assert codes(canary({"metrics": []}))["no-metrics"].severity == "warning"

    def test_threshold_too_high_for_abort_limit(self):
        """T·I + δ above abort_within is an error; only (T+1)·I + δ above it, a warning."""
        policy = Policy(abort_within_seconds=300.0)
        error = codes(canary(), policy=policy, check_delay=10.0)["threshold-too-high"]
        assert error.severity == "error"
        assert error.remedy == "threshold ≤ 3"
        warning = codes(canary({"threshold": 4}), policy=policy, check_delay=10.0)["threshold-too-high"]
        assert warning.severity == "warning"
        assert "threshold-too-high" not in codes(canary({"threshold": 3}), policy=policy, check_delay=10.0)

    def test_low_samples_per_check(self):
        """At 1 req/s a 10 % canary sees 6 requests per 1m window, below min_samples_per_interval 50."""
        predicted = plan(canary(), rps=1, policy=LENIENT)
        assert [round(s.samples) for s in predicted.samples] == [6, 12, 18, 24, 30]
        assert all(s.low for s in predicted.samples)
        trap = {t.code: t for t in predicted.traps}["low-samples"]
        assert "≥ 9 req/s" in trap.remedy
        assert "low-samples" not in codes(canary(), rps=100)

    def test_fault_too_small_for_the_success_rate_minimum(self):
        """0.5 % errors never take a 99 % success rate below its minimum: undetectable."""
        predicted = plan(canary(), rps=100, policy=LENIENT, fault_error_rate=0.005)
        assert math.isinf(predicted.assumptions.check_delay)
        assert "fault-undetectable" in {t.code for t in predicted.traps}
        assert predicted.random.escape_share == 1.0
        assert predicted.from_start.outcome == "promoted"

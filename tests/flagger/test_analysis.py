"""Metric checks of an analysis tick: ranges, deprecated thresholds, inline and template queries."""

from __future__ import annotations

import pytest

from harness.controllers.flagger.model import Phase
from harness.controllers.flagger.queries import request_success_rate
from harness.errors import MetricsError, NoValuesFound
from harness.scenario.flagger_canary import load_canary
from harness.scenario.metric_templates import load_metric_templates

from .rig import DATA, canary, make_rig


def first_analysis(rig):
    """Initialize, detect, start; return the first analysis tick's record."""
    rig.initialized()
    rig.new_revision()
    return rig.ticks(3)[-1]


def metrics_spec(*metrics, **analysis):
    return canary({"metrics": list(metrics), **analysis})


class TestBuiltinRanges:
    @pytest.mark.parametrize(
        ("bounds", "value", "message"),
        [
            ({"min": 99}, 99.0, None),
            ({"min": 99}, 98.999, "Halt podinfo.test advancement success rate 99.00% < 99%"),
            ({"max": 99.5}, 99.6, "Halt podinfo.test advancement success rate 99.60% > 99.5%"),
            ({"max": 99.5}, 99.5, None),
        ],
    )
    def test_success_rate_bounds_are_inclusive(self, bounds, value, message):
        """thresholdRange bounds pass when equal; failures print %.2f and Go %v."""
        spec = metrics_spec({"name": "request-success-rate", "thresholdRange": bounds})
        record = first_analysis(make_rig(spec, metrics={"request-success-rate": value}))
        assert record.checks[0].passed is (message is None)
        assert [e.message for e in record.events if e.type == "Warning"] == ([message] if message else [])

    @pytest.mark.parametrize(
        ("threshold", "value", "message"),
        [
            ({"threshold": 99}, 98.5, "Halt podinfo.test advancement success rate 98.50% < 99%"),
            ({"threshold": 99}, 100.0, None),
            ({}, 0.0, None),  # no range, threshold 0: success rate always passes [inferred]
        ],
    )
    def test_deprecated_success_rate_threshold_is_a_minimum(self, threshold, value, message):
        """``threshold`` without thresholdRange is a minimum for request-success-rate."""
        spec = metrics_spec({"name": "request-success-rate", **threshold})
        record = first_analysis(make_rig(spec, metrics={"request-success-rate": value}))
        assert [e.message for e in record.events if e.type == "Warning"] == ([message] if message else [])

    @pytest.mark.parametrize(
        ("metric", "value", "message"),
        [
            ({"thresholdRange": {"max": 500}}, 500.9, None),  # truncated to 500ms: equal passes
            (
                {"thresholdRange": {"max": 500}},
                501.0,
                "Halt podinfo.test advancement request duration 501ms > 500ms",
            ),
            (
                {"thresholdRange": {"min": 100}},
                99.0,
                "Halt podinfo.test advancement request duration 99ms < 100ms",
            ),
            ({"threshold": 500}, 5000.0, "Halt podinfo.test advancement request duration 5s > 500ms"),
            ({}, 1.0, "Halt podinfo.test advancement request duration 1ms > 0s"),
        ],
    )
    def test_request_duration_compares_go_durations(self, metric, value, message):
        """request-duration: value truncated to whole ms, compared and printed as Go durations."""
        spec = metrics_spec({"name": "request-duration", **metric})
        record = first_analysis(make_rig(spec, metrics={"request-duration": value}))
        assert [e.message for e in record.events if e.type == "Warning"] == ([message] if message else [])
        assert record.checks[0].value == value

    def test_query_error_is_a_failed_check(self):
        """A provider error (not "no values") → "Prometheus query failed: …" and failedChecks + 1."""
        rig = make_rig(
            metrics={
                "request-success-rate": MetricsError("error response: Status 503"),
                "request-duration": 1.0,
            }
        )
        record = first_analysis(rig)
        assert (
            record.events[0].message
            == "Prometheus query failed: running query failed: error response: Status 503"
        )
        assert record.status.failed_checks == 1
        assert record.checks[0].error == "error response: Status 503"

    def test_builtin_queries_use_the_metric_window_and_target(self):
        """The success-rate check queries the verbatim PromQL with the metric's interval (default 1m)."""
        spec = metrics_spec({"name": "request-success-rate", "thresholdRange": {"min": 1}, "interval": "30s"})
        record = first_analysis(make_rig(spec))
        assert record.checks[0].query == request_success_rate("test", "podinfo", "30s")
        spec = metrics_spec({"name": "request-success-rate", "thresholdRange": {"min": 1}})
        record = first_analysis(make_rig(spec))
        assert record.checks[0].query == request_success_rate("test", "podinfo", "1m")


class TestCustomMetrics:
    FILE = DATA / "template-metrics.yaml"

    def rig(self, metrics=None, spec=None):
        return make_rig(
            spec or load_canary(self.FILE), metrics=metrics or {}, templates=load_metric_templates(self.FILE)
        )

    def test_template_and_inline_queries_render_with_model_and_variables(self):
        """templateRef metrics render {{ target }}, {{ interval }}, {{ variables.codes }}; inline gets 1m."""
        rig = self.rig()
        rig.metrics.values = {"__any__": 0.0}
        seen = {}

        def answer(promql):
            seen[len(seen)] = promql
            return {0: 500.0, 1: 1.0, 2: 99.5}[len(seen) - 1]

        rig.metrics.query = answer  # type: ignore[method-assign]
        record = first_analysis(rig)
        assert [c.metric for c in record.checks] == ["inline-rps", "404s percentage", "error-rate"]
        assert all(c.passed for c in record.checks)
        assert seen[0] == 'sum(rate(traefik_service_requests_total{service=~"test-podinfo-canary-.*"}[1m]))'
        assert 'code="404"' in seen[1]
        assert "}[1m]" in seen[1]
        assert "  " not in seen[1]
        assert 'code!~"5.."' in seen[2]
        assert "[2m]" in seen[2]

    def test_template_out_of_range_prints_custom_message(self):
        """Custom metric above max → "Halt podinfo.test advancement 404s percentage 6.20 > 5"."""
        rig = self.rig()
        values = iter([500.0, 6.2])
        rig.metrics.query = lambda promql: next(values)  # type: ignore[method-assign]
        record = first_analysis(rig)
        assert record.events[-1].message == "Halt podinfo.test advancement 404s percentage 6.20 > 5"

    @pytest.mark.parametrize(
        ("metric", "message"),
        [
            (
                {"name": "m", "templateRef": {"name": "missing"}},
                'Metric template missing.test error: metrictemplate.flagger.app "missing" not found',
            ),
            (
                {"name": "m", "templateRef": {"name": "datadog-errors"}},
                "Metric template datadog-errors.test provider datadog error: "
                "provider type not supported by the emulation (Prometheus-compatible templates only)",
            ),
            (
                {"name": "m", "templateRef": {"name": "error-rate"}, "interval": "1m"},
                "Metric template error-rate.test query render error: template excution failed: "
                "template: tmpl:1:115: "
                'executing "tmpl" at <variables.codes>: map has no entry for key "codes"',
            ),
            ({"name": "m"}, "Metric query failed for no usable metrics template and query were configured"),
        ],
    )
    def test_unusable_custom_metrics_fail_the_check(self, metric, message):
        """Missing template, non-Prometheus provider, render error, no query → failed check."""
        spec = metrics_spec(metric)
        rig = make_rig(spec, metrics={}, templates=load_metric_templates(self.FILE))
        record = first_analysis(rig)
        assert [e.message for e in record.events] == [message]
        assert record.status.failed_checks == 1

    def test_template_metric_without_interval_renders_empty_window(self):
        """§5.4: no metric interval on a template metric → "[]" in the query (Prometheus rejects it)."""
        spec = metrics_spec(
            {"name": "m", "templateRef": {"name": "not-found-percentage"}, "thresholdRange": {"max": 5}}
        )
        rig = make_rig(spec, metrics={}, templates=load_metric_templates(self.FILE))
        record = first_analysis(rig)
        assert "}[] )" in record.checks[0].query
        assert record.events[0].message.startswith("Metric query failed for m: error response: Status 400")

    def test_no_values_messages_per_kind(self):
        """Inline: "no values found for metric: <m>"; template: "… custom metric: <m>: no values found"."""
        spec = metrics_spec({"name": "inline", "query": "up", "threshold": 1})
        record = first_analysis(make_rig(spec, metrics={"up": NoValuesFound()}))
        assert record.events[0].message == "Halt advancement no values found for metric: inline"
        spec = metrics_spec({"name": "t", "templateRef": {"name": "not-found-percentage"}, "interval": "1m"})
        rig = make_rig(spec, metrics={}, templates=load_metric_templates(self.FILE))
        rig.metrics.query = lambda promql: (_ for _ in ()).throw(NoValuesFound())  # type: ignore[method-assign]
        record = first_analysis(rig)
        assert (
            record.events[0].message
            == "Halt advancement no values found for custom metric: t: no values found"
        )

    def test_builtin_failure_short_circuits_template_metrics(self):
        """The first failing check ends the tick's analysis: template metrics are not queried."""
        spec = metrics_spec(
            {"name": "request-success-rate", "thresholdRange": {"min": 99}},
            {"name": "t", "templateRef": {"name": "not-found-percentage"}, "interval": "1m"},
        )
        rig = make_rig(
            spec, metrics={"request-success-rate": 50.0}, templates=load_metric_templates(self.FILE)
        )
        record = first_analysis(rig)
        assert [c.metric for c in record.checks] == ["request-success-rate"]
        assert rig.controller.status.phase == Phase.PROGRESSING

"""Canary and MetricTemplate loading: documentation-shaped fixtures, defaulting, CRD validation."""

from __future__ import annotations

import pytest
import yaml

from harness.errors import CanarySpecError
from harness.scenario.flagger_canary import load_canary, parse_canary
from harness.scenario.metric_templates import load_metric_templates

from .rig import DATA

VALID = """\
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  service:
    port: 80
  analysis:
    interval: {interval}
    threshold: {threshold}
    stepWeight: 10
"""


def problems(text):
    with pytest.raises(CanarySpecError) as info:
        parse_canary(text, "c.yaml")
    return [(p.path, p.line) for p in info.value.problems], str(info.value)


class TestFixtures:
    def test_traefik_tutorial_canary(self):
        """The tutorial-shaped Canary: metrics, pre-rollout/rollout hooks with metadata, 10 s interval."""
        spec = load_canary(DATA / "traefik-podinfo.yaml")
        a = spec.analysis
        assert (spec.ref, spec.target_ref, spec.service_port, spec.service_target_port) == (
            "podinfo.test",
            "podinfo.test",
            80,
            9898,
        )
        assert (
            a.interval_seconds,
            a.threshold,
            a.max_weight,
            a.step_weight,
            spec.progress_deadline_seconds,
        ) == (10, 10, 50, 5, 60)
        assert [(m.name, m.interval, m.threshold_range.min, m.threshold_range.max) for m in a.metrics] == [
            ("request-success-rate", "1m", 99, None),
            ("request-duration", "1m", None, 500),
        ]
        load = a.webhooks[1]
        assert (load.type, load.timeout_seconds, dict(load.metadata)["logCmdOutput"]) == (
            "rollout",
            5.0,
            "true",
        )
        assert spec.autoscaler_ref == ("HorizontalPodAutoscaler", "podinfo")

    def test_e2e_canary_picks_the_canary_document(self):
        """Multi-document file: the Canary is found after the IngressRoute; deprecated thresholds kept."""
        spec = load_canary(DATA / "e2e-traefik.yaml")
        a = spec.analysis
        assert (a.interval_seconds, a.threshold, a.max_weight, a.step_weight) == (15, 15, 60, 10)
        assert [(m.name, m.threshold, m.threshold_range) for m in a.metrics] == [
            ("request-success-rate", 99, None),
            ("request-duration", 500, None),
        ]
        assert [(h.name, h.type, h.timeout_seconds) for h in a.webhooks] == [
            ("gate", "confirm-rollout", 10.0),
            ("acceptance-test", "pre-rollout", 10.0),
            ("acceptance-test-traefik", "pre-rollout", 10.0),
            ("load-test", "rollout", 5.0),
        ]
        assert spec.manifest["spec"]["service"]["apex"]["labels"] == {"test": "test-label"}

    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("step-weights.yaml", ((5, 10, 25, 50), 0, 0, 25)),
            ("blue-green.yaml", ((), 0, 10, 0)),
            ("ab-testing.yaml", ((), 0, 10, 0)),
        ],
    )
    def test_strategy_fixtures(self, name, expected):
        """stepWeights, Blue/Green iterations and A/B match canaries load with their strategy fields."""
        a = load_canary(DATA / name).analysis
        assert (a.step_weights, a.step_weight, a.iterations, a.step_weight_promotion) == expected
        assert bool(a.match) is (name == "ab-testing.yaml")

    def test_template_fixture_loads_canary_and_templates(self):
        """templateRef metrics, variables and MetricTemplate documents from the same file."""
        spec = load_canary(DATA / "template-metrics.yaml")
        templates = load_metric_templates(DATA / "template-metrics.yaml")
        assert [(t.key, t.provider_type) for t in templates] == [
            ("not-found-percentage.test", "prometheus"),
            ("error-rate.test", "prometheus"),
            ("datadog-errors.test", "datadog"),
        ]
        refs = [(m.name, m.template_ref, m.template_variables) for m in spec.analysis.metrics]
        assert refs[1] == ("error-rate", ("error-rate", None), (("codes", "5.."),))
        assert spec.analysis.metrics[2].query is not None
        assert spec.analysis.metrics[2].threshold == 1000

    def test_full_options_fixture(self):
        """Alerts, apex/primary/canary metadata, sessionAffinity, autoscalerRef, ingressRef all accepted."""
        spec = load_canary(DATA / "full-options.yaml")
        a = spec.analysis
        assert (spec.name, spec.service_name, spec.ingress_ref_name, spec.metrics_server) == (
            "podinfo-canary",
            "web",
            "podinfo-ingress",
            "http://flagger-prometheus.traefik:9090",
        )
        assert (a.interval_seconds, a.threshold, a.primary_ready_threshold, a.canary_ready_threshold) == (
            90,
            1,
            50,
            80,
        )
        assert [(al.name, al.severity, al.provider_namespace) for al in a.alerts] == [
            ("on-call Slack", "error", "flagger"),
            ("dev team", "", None),
        ]
        abort = next(h for h in a.webhooks if h.name == "abort")
        assert (abort.retries, abort.timeout_seconds) == (2, 3.0)
        assert next(h for h in a.webhooks if h.name == "notify").disable_tls
        assert spec.revert_on_deletion


class TestDefaulting:
    @pytest.mark.parametrize(
        ("interval", "seconds"), [("5s", 10), ("1m30s", 90), ("500ms", 10), ("30sx", 60), ("2m", 120)]
    )
    def test_interval(self, interval, seconds):
        """< 10 s → 10 s; Go-parsable compounds; pattern-valid but unparsable → 60 s."""
        assert parse_canary(VALID.format(interval=interval, threshold=3)).analysis.interval_seconds == seconds

    def test_threshold_and_defaults(self):
        """threshold ≤ 0 → 1; deadline 600; ready thresholds 100; namespace default; raw metric interval."""
        spec = parse_canary(VALID.format(interval="1m", threshold=0))
        assert (spec.analysis.threshold, spec.progress_deadline_seconds) == (1, 600)
        assert (spec.analysis.primary_ready_threshold, spec.analysis.canary_ready_threshold) == (100, 100)
        assert spec.service_name == "podinfo"
        assert spec.provider == "traefik"
        no_ns = yaml.safe_load(VALID.format(interval="1m", threshold=1))
        del no_ns["metadata"]["namespace"]
        assert parse_canary(no_ns, default_namespace="ns1").namespace == "ns1"


class TestValidation:
    def test_one_of_requires_exactly_one_strategy(self):
        """stepWeight plus iterations breaks the CRD oneOf (located at one of the two keys)."""
        text = VALID.format(interval="1m", threshold=1) + "    iterations: 3\n"
        found, message = problems(text)
        assert found == [("spec.analysis.stepWeight", 16)]
        assert "exactly one of iterations, stepWeight or stepWeights" in message
        assert message.startswith("c.yaml:16: at spec.analysis.stepWeight:")
        assert "both iterations and stepWeight" in message

    def test_missing_fields_and_bad_types_are_located(self):
        """Missing service.port, a bad interval pattern and a non-integer weight each get a line."""
        text = VALID.format(interval="1h", threshold=1).replace("    port: 80\n", "    name: web\n")
        text = text.replace("stepWeight: 10", "stepWeight: 2.5")
        found, _ = problems(text)
        assert found == [
            ("spec.service.port", 11),
            ("spec.analysis.interval", 14),
            ("spec.analysis.stepWeight", 16),
        ]

    def test_unknown_fields_are_ignored(self):
        """Fields the emulation does not model never fail validation."""
        text = VALID.format(interval="1m", threshold=1) + "    somethingNew: {a: 1}\n"
        assert (
            parse_canary(text.replace("spec:\n", "spec:\n  futureField: true\n")).analysis.step_weight == 10
        )

    def test_not_a_canary(self):
        """A file without a Canary names the kinds it found; YAML syntax errors carry a line."""
        with pytest.raises(CanarySpecError, match="kinds \\['Deployment'\\]"):
            parse_canary("kind: Deployment\n")
        found, _ = problems("a: [1\nb: 2\n")
        assert found[0][1] is not None

    def test_webhook_and_metric_shapes(self):
        """Webhook type enum, metadata must be strings, metric name required."""
        text = VALID.format(interval="1m", threshold=1) + (
            "    webhooks:\n      - name: x\n        url: http://x\n        type: later\n"
            "        metadata: {n: 1}\n    metrics:\n      - interval: 1m\n"
        )
        found, _ = problems(text)
        assert [p for p, _ in found] == [
            "spec.analysis.metrics[0].name",
            "spec.analysis.webhooks[0].type",
            "spec.analysis.webhooks[0].metadata",
        ]

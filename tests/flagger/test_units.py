"""Pure building blocks: Go formatting, weights, readiness, status writes, queries, tick grid."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.controllers.flagger.gofmt import (
    go_duration_string,
    go_fixed,
    go_float_v,
    millis_duration_ns,
    parse_go_duration,
    safe_encode,
)
from harness.controllers.flagger.model import AnalysisSpec, CanaryStatus, Phase
from harness.controllers.flagger.ports import DeploymentCondition, DeploymentState
from harness.controllers.flagger.queries import (
    MetricTemplate,
    TemplateError,
    TemplateModel,
    render_query,
    request_duration,
    request_success_rate,
)
from harness.controllers.flagger.readiness import is_deployment_ready, ready_threshold_replicas
from harness.controllers.flagger.status import has_spec_changed, next_condition, set_phase, sync_status
from harness.controllers.flagger.timing import next_index
from harness.controllers.flagger.weights import (
    advanced_weights,
    max_weight,
    next_step_weight,
    promotion_schedule,
    weight_schedule,
)

FLAGGER_SUCCESS_RATE = (
    ' sum( rate( traefik_service_request_duration_seconds_bucket{ service=~"default-podinfo-canary-'
    '[0-9a-zA-Z-]+@kubernetescrd", code!~"5..", le="+Inf" }[1m] ) ) / sum( rate( '
    "traefik_service_request_duration_seconds_bucket{"
    ' service=~"default-podinfo-canary-[0-9a-zA-Z-]+@kubernetescrd", le="+Inf" }[1m] ) ) * 100'
)
FLAGGER_DURATION = (
    " histogram_quantile( 0.99, sum( rate( traefik_service_request_duration_seconds_bucket{ "
    'service=~"default-podinfo-'
    'canary-[0-9a-zA-Z-]+@kubernetescrd" }[1m] ) ) by (le) ) * 1000'
)


class TestGoFormatting:
    @pytest.mark.parametrize(
        ("text", "seconds"),
        [("1m", 60), ("1m30s", 90), ("500ms", 0.5), ("1.5h", 5400), ("0", 0), ("10s", 10), ("2h45m", 9900)],
    )
    def test_parse_go_duration(self, text, seconds):
        """Go ``time.ParseDuration`` forms, including compound and fractional ones."""
        assert parse_go_duration(text) == seconds

    @pytest.mark.parametrize("text", ["", "1", "1x", "m", ".s", "1m 30s"])
    def test_parse_go_duration_rejects(self, text):
        """Invalid durations raise ValueError like Go."""
        with pytest.raises(ValueError, match="time: "):
            parse_go_duration(text)

    @pytest.mark.parametrize(
        ("ns", "text"),
        [
            (1_191_000_000, "1.191s"),
            (500_000_000, "500ms"),
            (99_000_000, "99ms"),
            (0, "0s"),
            (60_000_000_000, "1m0s"),
            (3_723_500_000_000, "1h2m3.5s"),
            (1_500, "1.5µs"),
            (5_000_000_000, "5s"),
        ],
    )
    def test_duration_string(self, ns, text):
        """``time.Duration.String()``."""
        assert go_duration_string(ns) == text

    @pytest.mark.parametrize(
        ("value", "text"),
        [
            (99.0, "99"),
            (99.5, "99.5"),
            (0.5, "0.5"),
            (1e6, "1e+06"),
            (123456.0, "123456"),
            (1e-05, "1e-05"),
            (0.0001, "0.0001"),
            (float("inf"), "+Inf"),
        ],
    )
    def test_float_v(self, value, text):
        """``%v`` of a float64 (shortest repr, exponent form from 1e+06)."""
        assert go_float_v(value) == text

    def test_fixed_and_millis(self):
        """``%.2f`` and ``time.Duration(v) * time.Millisecond`` truncation."""
        assert (go_fixed(53.4249), go_fixed(float("nan"))) == ("53.42", "NaN")
        assert millis_duration_ns(1191.9) == 1_191_000_000

    def test_safe_encode_alphabet(self):
        """SafeEncodeString maps onto the consonant/digit alphabet."""
        assert set(safe_encode("1234567890")) <= set("bcdfghjklmnpqrstvwxz2456789")


class TestWeights:
    def test_max_weight_rules(self):
        """stepWeights last (≤100) > maxWeight > 100."""
        assert max_weight(AnalysisSpec(step_weights=(5, 10, 120))) == 100
        assert max_weight(AnalysisSpec(max_weight=50, step_weight=10)) == 50
        assert max_weight(AnalysisSpec(step_weight=10)) == 100

    def test_step_weights_progression(self):
        """[5, 10, 25, 50]: 5, 10, 25, 50; an off-list weight jumps to 100; at 100 the step is 1."""
        analysis = AnalysisSpec(step_weights=(5, 10, 25, 50))
        assert weight_schedule(analysis) == (5, 10, 25, 50)
        assert next_step_weight(analysis, 30) == 70
        assert next_step_weight(analysis, 100) == 1

    def test_overshoot_and_promotion_schedule(self):
        """maxWeight 50 / step 20 overshoots to 60; stepWeightPromotion 20 from 50 → 70, 90, 100."""
        assert weight_schedule(AnalysisSpec(max_weight=50, step_weight=20)) == (20, 40, 60)
        assert advanced_weights(AnalysisSpec(step_weight=30), 90) == (0, 100)
        assert promotion_schedule(AnalysisSpec(step_weight_promotion=20), 50) == (
            (70, 30),
            (90, 10),
            (100, 0),
        )
        assert weight_schedule(AnalysisSpec()) == ()  # stepWeight 0: the run never advances [inferred]

    @given(
        step=st.integers(1, 100),
        cap=st.integers(0, 100),
        steps=st.lists(st.integers(1, 100), min_size=1, max_size=6).map(lambda xs: tuple(sorted(set(xs)))),
        use_steps=st.booleans(),
    )
    def test_weights_never_decrease_and_promotion_needs_max(self, step, cap, steps, use_steps):
        """Property: weights rise monotonically, stay ≤ 100, and the last one is the first ≥ maxWeight."""
        analysis = (
            AnalysisSpec(step_weights=steps) if use_steps else AnalysisSpec(max_weight=cap, step_weight=step)
        )
        schedule = weight_schedule(analysis)
        assert list(schedule) == sorted(schedule)
        assert len(set(schedule)) == len(schedule)
        assert all(0 < w <= 100 for w in schedule)
        assert schedule[-1] >= max_weight(analysis)
        assert all(w < max_weight(analysis) for w in schedule[:-1])


def deployment(**overrides):
    fields = {
        "name": "podinfo",
        "generation": 2,
        "observed_generation": 2,
        "replicas": 3,
        "updated_replicas": 3,
        "available_replicas": 3,
        "status_replicas": 3,
    }
    fields.update(overrides)
    return DeploymentState(**fields)


class TestReadiness:
    def ready(self, state, threshold=100, deadline=600, now=1000.0):
        return is_deployment_ready(
            state, ready_threshold=threshold, progress_deadline_seconds=deadline, now=now
        )

    def test_messages(self):
        """Each not-ready state carries Flagger's exact text."""
        assert self.ready(deployment()).ready
        assert self.ready(deployment(observed_generation=1)).message == (
            "waiting for rollout to finish: observed deployment generation less than desired generation"
        )
        assert self.ready(deployment(updated_replicas=1)).message == (
            "waiting for rollout to finish: 1 out of 3 new replicas have been updated"
        )
        assert self.ready(deployment(status_replicas=5)).message == (
            "waiting for rollout to finish: 2 old replicas are pending termination"
        )
        assert self.ready(deployment(available_replicas=2)).message == (
            "waiting for rollout to finish: 2 of 3 (readyThreshold 100%) updated replicas are available"
        )

    def test_ready_threshold_uses_float32_truncation(self):
        """floor(updated × t/100) in float32: 1 replica at 50% needs 0, 3 at 70% need 2."""
        assert ready_threshold_replicas(1, 50) == 0
        assert ready_threshold_replicas(3, 70) == 2
        assert self.ready(
            deployment(replicas=1, updated_replicas=1, status_replicas=1, available_replicas=0), 50
        ).ready

    def test_deadline_paths(self):
        """Available=False/MinimumReplicasUnavailable past the deadline, or ProgressDeadlineExceeded."""
        unavailable = DeploymentCondition("Available", "False", "MinimumReplicasUnavailable", 100.0)
        progressing = DeploymentCondition("Progressing", "True", "ReplicaSetUpdated", 100.0)
        stuck = deployment(available_replicas=0, conditions=(progressing, unavailable))
        assert self.ready(stuck, deadline=600, now=700.0).retriable  # 100 + 600 is not before 700
        assert not self.ready(stuck, deadline=600, now=700.5).retriable
        exceeded = DeploymentCondition("Progressing", "False", "ProgressDeadlineExceeded", 100.0)
        result = self.ready(deployment(conditions=(exceeded,)))
        assert (result.ready, result.retriable, result.message) == (
            False,
            False,
            'deployment "podinfo" exceeded its progress deadline',
        )
        # Without a Progressing condition the Available condition is not consulted.
        assert self.ready(deployment(available_replicas=0, conditions=(unavailable,)), now=1e9).retriable


class TestStatus:
    def test_set_phase_resets_weight_except_progressing_waiting_promoting(self):
        """SetStatusPhase keeps canaryWeight for Promoting (v1.43) and resets it for Finalising."""
        status = CanaryStatus(
            phase=Phase.PROGRESSING, canary_weight=50, failed_checks=2, last_applied_spec="b"
        )
        promoting = set_phase(status, Phase.PROMOTING, analysis_iterations=0, target_kind="Deployment", now=1)
        finalising = set_phase(
            promoting, Phase.FINALISING, analysis_iterations=0, target_kind="Deployment", now=2
        )
        waiting = set_phase(
            status, Phase.WAITING_PROMOTION, analysis_iterations=0, target_kind="Deployment", now=3
        )
        succeeded = set_phase(
            finalising, Phase.SUCCEEDED, analysis_iterations=0, target_kind="Deployment", now=4
        )
        assert (promoting.canary_weight, finalising.canary_weight) == (50, 0)
        assert (waiting.canary_weight, waiting.iterations, waiting.failed_checks) == (0, -1, 2)
        assert (succeeded.failed_checks, succeeded.last_promoted_spec, succeeded.last_transition_time) == (
            2,
            "b",
            4,
        )

    def test_condition_keeps_transition_time_while_status_unchanged(self):
        """Promoted: rewritten on reason change; lastTransitionTime kept while the status is unchanged."""
        first = next_condition(None, Phase.PROGRESSING, "Deployment", 10)
        promoting = next_condition(first, Phase.PROMOTING, "Deployment", 20)
        assert first is not None
        assert promoting is not None
        assert (promoting.last_transition_time, promoting.last_update_time) == (10, 20)
        assert next_condition(promoting, Phase.PROMOTING, "Deployment", 30) is None
        succeeded = next_condition(promoting, Phase.SUCCEEDED, "Deployment", 40)
        assert succeeded is not None
        assert (succeeded.status, succeeded.last_transition_time) == ("True", 40)

    def test_full_sync_resets_counters_and_records_hashes(self):
        """SyncStatus zeroes unset fields; Initialized also sets lastPromotedSpec."""
        status = CanaryStatus(phase=Phase.PROGRESSING, canary_weight=30, failed_checks=4, iterations=2)
        failed = sync_status(status, phase=Phase.FAILED, template_hash="x", target_kind="Deployment", now=5)
        assert (failed.canary_weight, failed.failed_checks, failed.iterations, failed.last_applied_spec) == (
            0,
            0,
            0,
            "x",
        )
        init = sync_status(
            CanaryStatus(), phase=Phase.INITIALIZED, template_hash="a", target_kind="Deployment", now=1
        )
        assert (init.last_applied_spec, init.last_promoted_spec) == ("a", "a")
        assert has_spec_changed(init, "b")
        assert not has_spec_changed(init, "a")
        assert not has_spec_changed(CanaryStatus(last_applied_spec="b", last_promoted_spec="a"), "a")


class TestQueries:
    def test_builtin_queries_match_flaggers_own_test_strings(self):
        """Rendered + whitespace-collapsed queries equal pkg/metrics/observers/traefik_test.go."""
        assert request_success_rate("default", "podinfo", "1m") == FLAGGER_SUCCESS_RATE
        assert request_duration("default", "podinfo", "1m") == FLAGGER_DURATION

    def test_render_functions_and_missing_keys(self):
        """Model functions render; unknown functions fail parsing; missing variables fail execution."""
        model = TemplateModel("n", "ns", "t", "svc", "ing", "rt", "5m", {"k": "v"})
        text = (
            "{{ name }}|{{ namespace }}|{{ target }}|{{ service }}|{{ ingress }}|{{ route }}|{{ interval }}"
        )
        assert render_query(text + "|{{ variables.k }}", model) == "n|ns|t|svc|ing|rt|5m|v"
        assert render_query("a  {{- target -}}  b", model) == "atb"
        with pytest.raises(TemplateError, match='function "nope" not defined'):
            render_query("{{ nope }}", model)
        with pytest.raises(TemplateError, match='map has no entry for key "x"'):
            render_query("{{ variables.x }}", model)

    def test_metric_template_key(self):
        """Templates are keyed name.namespace."""
        assert MetricTemplate("a", "b", "prometheus", "", "q").key == "a.b"


class TestTickGrid:
    @pytest.mark.parametrize(
        ("index", "finished", "expected"),
        [(0, 0.0, 1), (2, 125.0, 3), (2, 210.0, 3), (2, 250.0, 4), (3, 211.0, 4)],
    )
    def test_next_index_follows_go_ticker(self, index, finished, expected):
        """On time → next index; overrun → the buffered tick fires at once (index = ticks due)."""
        assert next_index(index, 0.0, finished, 60.0) == expected

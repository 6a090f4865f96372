"""Flagger's event messages, word for word (``pkg/controller/*.go`` v1.44, spec §7.2).

``spec`` is the Canary; ``ref`` = ``<name>.<ns>``, ``target`` = ``<target>.<ns>``. Numbers use Go's
formatting: ``%.2f`` → ``go_fixed``, ``%v`` of a float → ``go_float_v``, durations → ``go_duration_string``.
"""

from __future__ import annotations

from harness.controllers.flagger.gofmt import go_duration_string, go_fixed, go_float_v
from harness.controllers.flagger.model import CanarySpec

# ---- lifecycle (Normal) ----------------------------------------------------------------------------


def suspended() -> str:
    return "skipping canary run as object is suspended"


def providers_available() -> str:
    return "all the metrics providers are available!"


def providers_error(err: str) -> str:
    return f"Error checking metric providers: {err}"


def initialized(spec: CanarySpec) -> str:
    return f"Initialization done! {spec.ref}"


def new_revision(spec: CanarySpec) -> str:
    return f"New revision detected! Scaling up {spec.target_ref}"


def restart(spec: CanarySpec) -> str:
    return f"New revision detected! Restarting analysis for {spec.target_ref}"


def starting(spec: CanarySpec) -> str:
    return f"Starting canary analysis for {spec.target_ref}"


def advance_weight(spec: CanarySpec, weight: int) -> str:
    return f"Advance {spec.ref} canary weight {weight}"


def advance_iteration(spec: CanarySpec, iteration: int, total: int) -> str:
    return f"Advance {spec.ref} canary iteration {iteration}/{total}"


def advance_primary(spec: CanarySpec, weight: int) -> str:
    return f"Advance {spec.ref} primary weight {weight}"


def copying(spec: CanarySpec) -> str:
    return f"Copying {spec.target_ref} template spec to {spec.target_name}-primary.{spec.namespace}"


def routing_to_primary() -> str:
    return "Routing all traffic to primary"


def routing_to_canary() -> str:
    return "Routing all traffic to canary"


def mirroring_stopped() -> str:
    return "Stop traffic mirroring and route all traffic to canary"


def promotion_completed(spec: CanarySpec) -> str:
    return f"Promotion completed! Scaling down {spec.target_ref}"


def promotion_skipped(spec: CanarySpec) -> str:
    return f"Promotion completed! Canary analysis was skipped for {spec.target_ref}"


# ---- hooks -------------------------------------------------------------------------------------------


def hook_passed(kind: str, hook: str) -> str:
    """kind: Pre-rollout, Confirm-rollout, Confirm-traffic-increase, Confirm-promotion, Post-rollout."""
    return f"{kind} check {hook} passed"


def waiting_approval(spec: CanarySpec, hook: str) -> str:
    return f"Halt {spec.ref} advancement waiting for approval {hook}"


def waiting_traffic_increase(spec: CanarySpec, hook: str) -> str:
    return f"Halt {spec.ref} advancement waiting for traffic increase approval {hook}"


def waiting_promotion(spec: CanarySpec, hook: str) -> str:
    return f"Halt {spec.ref} advancement waiting for promotion approval {hook}"


def pre_rollout_failed(spec: CanarySpec, hook: str, err: str) -> str:
    return f"Halt {spec.ref} advancement pre-rollout check {hook} failed {err}"


def rollout_failed(spec: CanarySpec, hook: str, err: str) -> str:
    return f"Halt {spec.ref} advancement external check {hook} failed {err}"


def post_rollout_failed(hook: str, err: str) -> str:
    return f"Post-rollout hook {hook} failed {err}"


def rollback_hook_passed(hook: str) -> str:
    return f"Rollback check {hook} passed"


def rollback_hook_idle(hook: str) -> str:
    return f"Rollback hook {hook} not signaling a rollback"


def manual_rollback(spec: CanarySpec) -> str:
    return f"Rolling back {spec.ref} manual webhook invoked"


# ---- metrics -----------------------------------------------------------------------------------------


def success_rate_below(spec: CanarySpec, value: float, bound: float) -> str:
    return f"Halt {spec.ref} advancement success rate {go_fixed(value)}% < {go_float_v(bound)}%"


def success_rate_above(spec: CanarySpec, value: float, bound: float) -> str:
    return f"Halt {spec.ref} advancement success rate {go_fixed(value)}% > {go_float_v(bound)}%"


def duration_below(spec: CanarySpec, value_ns: int, bound_ns: int) -> str:
    value, bound = go_duration_string(value_ns), go_duration_string(bound_ns)
    return f"Halt {spec.ref} advancement request duration {value} < {bound}"


def duration_above(spec: CanarySpec, value_ns: int, bound_ns: int) -> str:
    value, bound = go_duration_string(value_ns), go_duration_string(bound_ns)
    return f"Halt {spec.ref} advancement request duration {value} > {bound}"


def custom_below(spec: CanarySpec, metric: str, value: float, bound: float) -> str:
    return f"Halt {spec.ref} advancement {metric} {go_fixed(value)} < {go_float_v(bound)}"


def custom_above(spec: CanarySpec, metric: str, value: float, bound: float) -> str:
    return f"Halt {spec.ref} advancement {metric} {go_fixed(value)} > {go_float_v(bound)}"


def no_values_builtin(spec: CanarySpec, provider: str, metric: str, err: str | None) -> str:
    """request-success-rate carries ``: <err>``; request-duration has no suffix (err None)."""
    text = (
        f"Halt advancement no values found for {provider} metric {metric} "
        f"probably {spec.target_ref} is not receiving traffic"
    )
    return f"{text}: {err}" if err is not None else text


def no_values_inline(metric: str) -> str:
    return f"Halt advancement no values found for metric: {metric}"


def no_values_template(metric: str, err: str) -> str:
    return f"Halt advancement no values found for custom metric: {metric}: {err}"


def prometheus_failed(err: str) -> str:
    return f"Prometheus query failed: {err}"


def prometheus_failed_for(metric: str, err: str) -> str:
    return f"Prometheus query failed for {metric}: {err}"


def metric_query_failed(metric: str, err: str) -> str:
    return f"Metric query failed for {metric}: {err}"


def no_usable_query() -> str:
    return "Metric query failed for no usable metrics template and query were configured"


def template_error(template: str, namespace: str, err: str) -> str:
    return f"Metric template {template}.{namespace} error: {err}"


def template_provider_error(template: str, namespace: str, provider: str, err: str) -> str:
    return f"Metric template {template}.{namespace} provider {provider} error: {err}"


def template_render_error(template: str, namespace: str, err: str) -> str:
    return f"Metric template {template}.{namespace} query render error: {err}"


# ---- rollback / promotion failure (Warning) --------------------------------------------------------


def threshold_reached(spec: CanarySpec, failed_checks: int) -> str:
    return f"Rolling back {spec.ref} failed checks threshold reached {failed_checks}"


def canary_failed(spec: CanarySpec) -> str:
    return f"Canary failed! Scaling down {spec.ref}"


def progress_deadline(spec: CanarySpec, err: str) -> str:
    """Present in scheduler.go but unreachable in v1.44 for Deployments [inferred, §2.7]."""
    return f"Rolling back {spec.ref} progress deadline exceeded {err}"


def promotion_failed(spec: CanarySpec, err: str) -> str:
    return f"Promotion of {spec.target_ref} failed, primary not ready: {err}"

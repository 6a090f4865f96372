"""Flagger's Deployment readiness (``pkg/canary/deployment_ready.go`` ``isDeploymentReady``, spec §2.7).

A pure function of the Deployment status, the ready threshold, the Canary's progressDeadlineSeconds
and ``now`` (emulated seconds, compared with the condition's ``last_update_time``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from harness.controllers.flagger.model import CanarySpec
from harness.controllers.flagger.ports import DeploymentCondition, DeploymentState


@dataclass(frozen=True)
class Readiness:
    ready: bool
    message: str = ""  # Flagger's error text when not ready
    retriable: bool = True


READY = Readiness(True)


def _f32(value: float) -> float:
    return float(struct.unpack("f", struct.pack("f", value))[0])


def ready_threshold_replicas(updated_replicas: int, threshold: int) -> int:
    """``int32(float32(updated) * (float32(threshold) / float32(100)))`` — float32 maths, truncated."""
    ratio = _f32(_f32(float(threshold)) / _f32(100.0))
    return int(_f32(_f32(float(updated_replicas)) * ratio))


def _condition(state: DeploymentState, kind: str) -> DeploymentCondition | None:
    return next((c for c in state.conditions if c.type == kind), None)


def is_deployment_ready(
    state: DeploymentState, *, ready_threshold: int, progress_deadline_seconds: int, now: float
) -> Readiness:
    """``isDeploymentReady``: not-ready states are retriable unless the deadline has passed."""
    if state.generation > state.observed_generation:
        return Readiness(
            False,
            "waiting for rollout to finish: observed deployment generation less than desired generation",
            True,
        )
    retriable = True
    progress = _condition(state, "Progressing")
    if progress is not None:
        available = _condition(state, "Available")
        if (
            available is not None
            and available.status == "False"
            and available.reason == "MinimumReplicasUnavailable"
        ):
            retriable = not (available.last_update_time + progress_deadline_seconds < now)
    needed = ready_threshold_replicas(state.updated_replicas, ready_threshold)
    if progress is not None and progress.reason == "ProgressDeadlineExceeded":
        return Readiness(False, f'deployment "{state.name}" exceeded its progress deadline', False)
    if state.updated_replicas < state.replicas:
        return Readiness(
            False,
            f"waiting for rollout to finish: {state.updated_replicas} out of {state.replicas} "
            "new replicas have been updated",
            retriable,
        )
    if state.status_replicas > state.updated_replicas:
        pending = state.status_replicas - state.updated_replicas
        return Readiness(
            False, f"waiting for rollout to finish: {pending} old replicas are pending termination", retriable
        )
    if state.available_replicas < needed:
        return Readiness(
            False,
            f"waiting for rollout to finish: {state.available_replicas} of {needed} "
            f"(readyThreshold {ready_threshold}%) updated replicas are available",
            retriable,
        )
    return READY


def primary_readiness(spec: CanarySpec, state: DeploymentState, now: float) -> Readiness:
    """``IsPrimaryReady``: message prefixed ``<target>-primary.<ns> not ready: ``."""
    result = is_deployment_ready(
        state,
        ready_threshold=spec.analysis.primary_ready_threshold,
        progress_deadline_seconds=spec.progress_deadline_seconds,
        now=now,
    )
    if result.ready:
        # [inferred] IsPrimaryReady's "scaled to zero" check compares pointers and never fires (§2.7).
        return result
    return Readiness(
        False, f"{spec.target_name}-primary.{spec.namespace} not ready: {result.message}", result.retriable
    )


def canary_readiness(spec: CanarySpec, state: DeploymentState, now: float) -> Readiness:
    """``IsCanaryReady``: message prefixed ``canary deployment <target>.<ns> not ready: ``."""
    result = is_deployment_ready(
        state,
        ready_threshold=spec.analysis.canary_ready_threshold,
        progress_deadline_seconds=spec.progress_deadline_seconds,
        now=now,
    )
    if result.ready:
        return result
    return Readiness(
        False, f"canary deployment {spec.target_ref} not ready: {result.message}", result.retriable
    )

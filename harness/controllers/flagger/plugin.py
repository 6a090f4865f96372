"""Flagger as a controller plug-in: the Canary resource, its terminal phases, and the emulation's factory."""

from __future__ import annotations

from harness.controllers.base import (
    ControllerPlugin,
    EmulatedController,
    EmulationPorts,
    LocalTarget,
    SpecTiming,
)
from harness.controllers.flagger.controller import FlaggerController
from harness.controllers.flagger.model import TERMINAL_PHASES, CanarySpec, Phase
from harness.controllers.flagger.queries import traffic_window


def _emulate(spec: CanarySpec, ports: EmulationPorts) -> EmulatedController:
    return FlaggerController(
        spec,
        router=ports.router,
        workloads=ports.workloads,
        metrics=ports.metrics,
        webhooks=ports.webhooks,
        clock=ports.clock,
        events=ports.events,
        templates={template.key: template for template in ports.metric_templates},
    )


def _local_target(spec: CanarySpec) -> LocalTarget:
    return LocalTarget(
        namespace=spec.namespace,
        service=spec.service_name,
        service_port=spec.service_port,
        workload=spec.target_name,
        provider=spec.provider,
        # Initialization needs the primary ready; bounded by the deadline Flagger would apply.
        progress_deadline_seconds=spec.progress_deadline_seconds,
        initialization_seconds=spec.progress_deadline_seconds + 3 * spec.analysis.interval_seconds,
    )


def _timing(spec: CanarySpec) -> SpecTiming:
    return SpecTiming(
        spec.analysis.interval_seconds,
        traffic_window(spec),
        float(spec.progress_deadline_seconds),
        success_rate_minimum(spec),
    )


def success_rate_minimum(spec: CanarySpec) -> float | None:
    """``thresholdRange.min`` of the Canary's success-rate check (builtin or a template named so)."""
    for metric in spec.analysis.metrics:
        bounds = metric.threshold_range
        if "success" in metric.name and bounds is not None and bounds.min is not None:
            return bounds.min
    return None


FLAGGER: ControllerPlugin[CanarySpec] = ControllerPlugin(
    name="flagger",
    kind="Canary",
    api_version="flagger.app/v1beta1",
    terminal_phases=TERMINAL_PHASES,
    rollback_phase=Phase.FAILED,
    initialized_phase=Phase.INITIALIZED,
    spec_type=CanarySpec,
    emulate=_emulate,
    tick_interval=lambda spec: spec.analysis.interval_seconds,
    local_target=_local_target,
    timing=_timing,
)

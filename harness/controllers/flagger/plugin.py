"""Flagger as a controller plug-in: the Canary resource, its terminal phases, and the emulation's factory."""

from __future__ import annotations

from harness.controllers.base import ControllerPlugin, EmulatedController, EmulationPorts
from harness.controllers.flagger.controller import FlaggerController
from harness.controllers.flagger.model import TERMINAL_PHASES, CanarySpec, Phase


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


FLAGGER = ControllerPlugin(
    name="flagger",
    kind="Canary",
    api_version="flagger.app/v1beta1",
    terminal_phases=TERMINAL_PHASES,
    rollback_phase=Phase.FAILED,
    initialized_phase=Phase.INITIALIZED,
    emulate=_emulate,
)

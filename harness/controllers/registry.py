"""The controllers a scenario can name (``controller:``), by name."""

from __future__ import annotations

from typing import Any

from harness.controllers.argo_rollouts.model import RolloutBundle
from harness.controllers.argo_rollouts.plugin import ARGO_ROLLOUTS
from harness.controllers.base import ControllerPlugin
from harness.controllers.flagger.model import CanarySpec
from harness.controllers.flagger.plugin import FLAGGER
from harness.errors import InputError

# The spec a controller under test runs: a Flagger Canary or an Argo Rollout with its templates.
ControllerSpec = CanarySpec | RolloutBundle

CONTROLLERS: dict[str, ControllerPlugin[Any]] = {plugin.name: plugin for plugin in (FLAGGER, ARGO_ROLLOUTS)}
DEFAULT_CONTROLLER = FLAGGER.name


def controller_named(name: str) -> ControllerPlugin[Any]:
    try:
        return CONTROLLERS[name]
    except KeyError:
        raise InputError(f"controller: expected one of {sorted(CONTROLLERS)}, found {name!r}") from None

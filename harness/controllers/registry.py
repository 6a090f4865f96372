"""The controllers a scenario can name (``controller:``), by name."""

from __future__ import annotations

from harness.controllers.base import ControllerPlugin
from harness.controllers.flagger.plugin import FLAGGER
from harness.errors import InputError

CONTROLLERS: dict[str, ControllerPlugin] = {plugin.name: plugin for plugin in (FLAGGER,)}
DEFAULT_CONTROLLER = FLAGGER.name


def controller_named(name: str) -> ControllerPlugin:
    try:
        return CONTROLLERS[name]
    except KeyError:
        raise InputError(f"controller: expected one of {sorted(CONTROLLERS)}, found {name!r}") from None

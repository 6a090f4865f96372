"""Option groups of ``canary-chaos run``/``schedule`` kept out of ``harness.cli``: timing and controllers.

``--controller flagger,argo-rollouts`` runs each scenario once per controller named (a Flagger Canary is
translated to a Rollout by ``harness.scenario.to_rollout``); the report compares them side by side.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

from harness.errors import InputError

if TYPE_CHECKING:
    from harness.scenario.model import Scenario


def _controllers(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple[str, ...]:
    from harness.controllers.registry import CONTROLLERS

    if value is None:
        return ()
    names = tuple(dict.fromkeys(name.strip() for name in value.split(",") if name.strip()))
    unknown = [name for name in names if name not in CONTROLLERS]
    if unknown or not names:
        raise click.BadParameter(f"expected a comma-separated list of {sorted(CONTROLLERS)}, found {value!r}")
    return names


controller_option = click.option(
    "--controller",
    default=None,
    callback=_controllers,
    help="Run each scenario's fault against these controllers (comma-separated: flagger,argo-rollouts; "
    "default: the scenario's own). A Flagger Canary is translated to a Rollout "
    "(docs/argo-rollouts-semantics.md, Translation); the report puts the runs side by side.",
)


def for_controllers(scenarios: Sequence[Scenario], controllers: Sequence[str]) -> list[Scenario]:
    """Each scenario once per controller (in the order given); unchanged when none is given."""
    from harness.scenario.to_rollout import as_controller

    if not controllers:
        return list(scenarios)
    expanded = [as_controller(scenario, name) for scenario in scenarios for name in controllers]
    seen: set[str] = set()
    for scenario in expanded:
        if scenario.id in seen:
            raise InputError(f"scenario id {scenario.id!r} twice in one run")
        seen.add(scenario.id)
    return expanded


def timing_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options ``run`` and ``schedule`` share: backend, time scale, parallel slots, estimates."""
    options = [
        click.option(
            "--backend", type=click.Choice(["local", "kubernetes"]), default="local", show_default=True
        ),
        click.option(
            "--time-scale",
            type=click.FloatRange(min=0.1, max=600),
            default=None,
            help="Emulated seconds per real second. Local: the run clock (default 60: a 1m interval in "
            "1 s). Kubernetes: the Canary's durations are divided by it (default 4: a 1m interval runs "
            "as 15s, Flagger's own e2e interval); refused below Flagger's 10 s interval or 3 scrapes "
            "per metric window.",
        ),
        click.option(
            "--parallel",
            type=click.IntRange(min=1, max=64),
            default=None,
            help="Runs at once, each in its own namespace (default: kubernetes 4, from the resource "
            "estimate in harness/plan/capacity.py for a 4 vCPU / 16 GiB kind node; local 1).",
        ),
        click.option(
            "--scrape-interval",
            type=click.FloatRange(min=0.1),
            default=None,
            help="Kubernetes: the cluster Prometheus' scrape interval in seconds (default: the provider's "
            "Prometheus: Flagger's chart 5, linkerd-viz 10).",
        ),
        click.option(
            "--deploy-seconds",
            type=click.FloatRange(min=0),
            default=None,
            help="Schedule estimate of one deploy in real seconds, before Flagger's initialisation "
            "ticks (default: kubernetes 40 on kind with the image loaded, local 3; see "
            "harness/plan/schedule.py).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def timing(
    backend: str, time_scale: float | None, parallel: int | None, deploy_seconds: float | None
) -> tuple[float, int, Any]:
    from dataclasses import replace

    from harness.plan.capacity import default_parallel
    from harness.plan.cluster_scale import DEFAULT_CLUSTER_TIME_SCALE
    from harness.plan.schedule import LOCAL_STARTUP, StartupEstimate

    scale = (
        time_scale if time_scale is not None else (60.0 if backend == "local" else DEFAULT_CLUSTER_TIME_SCALE)
    )
    startup = LOCAL_STARTUP if backend == "local" else StartupEstimate()
    if deploy_seconds is not None:
        startup = replace(startup, deploy_seconds=deploy_seconds)
    return scale, parallel or default_parallel(backend), startup

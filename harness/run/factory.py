"""Builds the backend and the load driver a run asks for (the only place that knows them all)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from harness.backends.base import Backend, ClusterTarget
from harness.clock import ScaledClock
from harness.controllers.flagger.queries import MetricTemplate
from harness.controllers.registry import controller_named
from harness.errors import InputError
from harness.model import Ingress
from harness.scenario.model import Scenario

if TYPE_CHECKING:
    from harness.backends.kubernetes.backend import KubernetesOptions
    from harness.backends.local.metrics import SharedPrometheus
    from harness.run.options import RunOptions
    from harness.run.runner import LoadDriver


def make_backend(
    scenario: Scenario, options: RunOptions, run_dir: Path, shared: SharedPrometheus | None = None
) -> Backend:
    if options.backend == "local":
        from harness.backends.local.backend import LocalBackend

        clock = ScaledClock(options.time_scale)
        if shared is not None and not can_share_prometheus(scenario):
            shared = None
        return LocalBackend(
            clock=clock,
            run_dir=run_dir,
            prometheus=options.prometheus,
            shared_prometheus=shared,
            controller=controller_named(scenario.controller),
            metric_templates=scenario_templates(scenario),
        )
    if options.backend == "kubernetes":
        if scenario.canary is None and scenario.rollout is None:
            raise InputError(
                f"{scenario.file}: controller {scenario.controller} runs on the local backend only"
            )
        from harness.backends.kubernetes.backend import KubernetesOptions
        from harness.backends.kubernetes.cluster_provider import scrape_interval_for
        from harness.backends.kubernetes.connect import connect_argo_backend, connect_backend
        from harness.backends.kubernetes.safety import load_allowed_contexts, merge_allowlists

        analysis_from = None
        if options.canary_spec is not None:
            from harness.scenario.flagger_canary import load_canary

            analysis_from = load_canary(options.canary_spec)
        allowed = merge_allowlists(options.context_allow, load_allowed_contexts())
        kube = kubernetes_options(options.cluster, KubernetesOptions(context_allow=tuple(allowed)))
        connect = connect_argo_backend if scenario.rollout is not None else connect_backend
        # Linkerd (gatewayapi:*): its manifests, linkerd-viz' Prometheus, the meshed-ingress load path
        provider = scenario.canary.provider if scenario.canary is not None else "traefik"
        return connect(
            dataclasses.replace(
                kube,
                keep=options.keep,
                analysis_from=analysis_from,
                time_scale=options.time_scale,
                provider=provider,
                scrape_interval_seconds=scrape_interval_for(provider, options.scrape_interval_seconds),
            ),
            clock=ScaledClock(options.time_scale),
        )
    raise InputError(f"--backend: expected local or kubernetes, found {options.backend!r}")


def scenario_templates(scenario: Scenario) -> tuple[MetricTemplate, ...]:
    """The MetricTemplate documents of the scenario's Canary file (applied with it, as on a cluster)."""
    from harness.scenario.metric_templates import load_metric_templates

    source = scenario.canary.source if scenario.canary else None
    return load_metric_templates(source) if source else ()


def kubernetes_options(target: ClusterTarget, base: KubernetesOptions) -> KubernetesOptions:
    """``base`` with every option the user gave on the command line (None keeps the default)."""
    given = {
        "kube_context": target.kube_context,
        "ingress_url": target.ingress_url,
        "ingress_namespace": target.ingress_namespace,
        "prometheus_url": target.prometheus_url,
        "flagger_namespace": target.flagger_namespace,
        "image": target.image,
        "manifests_dir": target.manifests,
        "request_timeout": target.request_timeout,
    }
    return dataclasses.replace(base, **{k: v for k, v in given.items() if v is not None})  # type: ignore[arg-type]


def shared_prometheus_for(options: RunOptions, batch_dir: Path) -> SharedPrometheus | None:
    """A batch-wide Prometheus server for local runs that would start one anyway (None otherwise)."""
    from harness.backends.local.metrics import SharedPrometheus, prometheus_available

    if options.backend != "local" or options.prometheus == "embedded" or not prometheus_available():
        return None
    return SharedPrometheus(batch_dir / "prometheus", ScaledClock(options.time_scale)).start()


def can_share_prometheus(scenario: Scenario) -> bool:
    """Earlier runs' series must be older than the metric windows when this run's analysis starts."""
    from harness.controllers.flagger.gofmt import parse_go_duration

    if scenario.canary is None:  # Argo: a query's window is in its PromQL; the interval stands in
        rollout_windows = [
            metric.interval or 60.0
            for template in (scenario.rollout.templates.values() if scenario.rollout else ())
            for metric in template.metrics
        ]
        return max(rollout_windows, default=60.0) <= scenario.timing.warmup_seconds
    windows = [parse_go_duration(m.interval or "1m") for m in scenario.canary.analysis.metrics]
    return max(windows, default=60.0) <= scenario.timing.warmup_seconds


def default_load_factory(
    options: RunOptions, run_dir: Path, backend: Backend
) -> Callable[[Scenario, Ingress], LoadDriver]:
    """Locust in its own process(es), pointed at the ingress the backend returned."""
    from harness.load.gateway import locust_driver

    def factory(scenario: Scenario, ingress: Ingress) -> LoadDriver:
        workers = options.load_workers if options.load_workers is not None else scenario.load.workers
        return locust_driver(
            scenario, ingress, clock=backend.clock, run_dir=run_dir / "load", workers=workers
        )

    return factory


def unmet_requirements(scenario: Scenario, options: RunOptions) -> str | None:
    """Why this scenario cannot run with these options (it is then skipped, not failed), or None."""
    if "kubernetes" in scenario.requires and options.backend != "kubernetes":
        return "requires the kubernetes backend"
    if scenario.canary is None and scenario.rollout is None and options.backend != "local":
        return f"controller {scenario.controller} runs on the local backend only (for now)"
    if "prometheus" in scenario.requires and options.backend == "local":
        from harness.backends.local.metrics import prometheus_available

        if options.prometheus == "embedded" or not prometheus_available():
            return "requires a real Prometheus server (Debian package 'prometheus'); custom PromQL"
    return None

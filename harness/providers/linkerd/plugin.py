"""Linkerd as a provider plug-in: Flagger's ``gatewayapi:v1beta1`` router on a Linkerd mesh.

Registered in ``harness.providers.registry``; the local stand-in is ``harness.providers.linkerd.router``.
Three things differ from Traefik's plug-in:

- the builtin templates are Flagger's ``HttpObserver`` queries (the *application's*
  ``http_request_duration_seconds_*``), because that is what Flagger runs for ``gatewayapi:*``; they are
  not over the router's series, so Linkerd scenarios use the tutorial's MetricTemplates
  (``harness.controllers.flagger.linkerd_queries.tutorial_templates``). Their duration is in seconds:
  ``duration_to_ms`` is ``HTTP_OBSERVER.duration_to_ms`` (1000). Query windows need nothing of the
  provider: the local query client scales every range of every query by the run's time scale;
- ``service_label`` is the ``deployment`` label linkerd-viz puts on the inbound series;
- ``routes_by_match``: the HTTPRoute's header/cookie matches bound the A/B cohort.
"""

from __future__ import annotations

from harness.providers.base import ProviderPlugin, Side
from harness.providers.linkerd.queries import HTTP_OBSERVER

REQUEST_SERIES = "response_total"  # what the stand-in exports (response_latency_ms_bucket alongside)


def deployment_label(namespace: str, service: str, side: Side, port: int) -> str:
    """The ``deployment`` label of a side's pods: ``<target>`` (canary) or ``<target>-primary``."""
    del namespace, port  # linkerd-viz labels by workload only
    return service if side == "canary" else f"{service}-primary"


LINKERD_GATEWAY_API = ProviderPlugin(
    name="gatewayapi:v1beta1",
    builtin_templates={
        "request-success-rate": HTTP_OBSERVER.success_rate,
        "request-duration": HTTP_OBSERVER.duration,
    },
    request_series=REQUEST_SERIES,
    service_label=deployment_label,
    routes_by_match=True,  # the HTTPRoute's header/cookie matches bound the cohort
    duration_to_ms=HTTP_OBSERVER.duration_to_ms,
)

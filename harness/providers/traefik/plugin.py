"""Traefik as a provider plug-in: Flagger's Traefik observer queries over the router's service histogram."""

from __future__ import annotations

from harness.providers.base import ProviderPlugin
from harness.providers.traefik.queries import BUILTIN_TEMPLATES, REQUEST_SERIES
from harness.providers.traefik.router_config import child_service_name

TRAEFIK = ProviderPlugin(
    name="traefik",
    builtin_templates=BUILTIN_TEMPLATES,
    request_series=REQUEST_SERIES,
    service_label=child_service_name,
    routes_by_match=False,  # a TraefikService has weights only (flagger-semantics §2.11)
    duration_to_ms=1.0,  # pkg/metrics/observers/traefik.go: time.Duration(int64(value)) * time.Millisecond
)

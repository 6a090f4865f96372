"""Traefik's side of Flagger's builtin metrics: the observer's query templates and the series they read.

The templates are Flagger's Go source (``pkg/metrics/observers/traefik.go`` v1.44) verbatim, tabs included;
``harness.controllers.flagger.queries`` renders them the way Flagger does. They read the router's
``traefik_service_request_duration_seconds_bucket`` histogram, whose ``service`` label is
``<namespace>-<service>-<port>@kubernetescrd`` (``router_config.child_service_name``), as Traefik's Kubernetes
CRD provider names it.
"""

from __future__ import annotations

REQUEST_SERIES = "traefik_service_request_duration_seconds_bucket"

# Verbatim from pkg/metrics/observers/traefik.go (v1.44), tabs included.
SUCCESS_RATE_TEMPLATE = """
\tsum(
\t\trate(
\t\t\ttraefik_service_request_duration_seconds_bucket{
\t\t\t\tservice=~"{{ namespace }}-{{ target }}-canary-[0-9a-zA-Z-]+@kubernetescrd",
\t\t\t\tcode!~"5..",
\t\t\t\tle="+Inf"
\t\t\t}[{{ interval }}]
\t\t)
\t)
\t/
\tsum(
\t\trate(
\t\t\ttraefik_service_request_duration_seconds_bucket{
\t\t\t\tservice=~"{{ namespace }}-{{ target }}-canary-[0-9a-zA-Z-]+@kubernetescrd",
\t\t\t\tle="+Inf"
\t\t\t}[{{ interval }}]
\t\t)
\t) * 100"""

DURATION_TEMPLATE = """
\thistogram_quantile(
\t\t0.99,
\t\tsum(
\t\t\trate(
\t\t\t\ttraefik_service_request_duration_seconds_bucket{
\t\t\t\t\tservice=~"{{ namespace }}-{{ target }}-canary-[0-9a-zA-Z-]+@kubernetescrd"
\t\t\t\t}[{{ interval }}]
\t\t\t)
\t\t) by (le)
\t) * 1000"""

BUILTIN_TEMPLATES = {"request-success-rate": SUCCESS_RATE_TEMPLATE, "request-duration": DURATION_TEMPLATE}

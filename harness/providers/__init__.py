"""Traffic providers: the routers a controller shifts weights on, and the metrics they export.

``base`` is the seam: a provider names its router semantics, the metric names and labels its router exports,
and the builtin PromQL the controller runs against them. ``traefik`` is the first plug-in: TraefikService
weighted round robin (EDF), ``traefik_service_*`` metrics, and Flagger's Traefik observer queries.
``linkerd`` holds Gateway API HTTPRoute semantics as Linkerd applies them, linkerd-proxy's metrics and
Flagger's Linkerd queries (pure; not yet registered as a plug-in).
"""

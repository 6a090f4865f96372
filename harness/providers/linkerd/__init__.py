"""Linkerd with Gateway API routing (Flagger ``meshProvider=gatewayapi:v1beta1``), pure.

``httproute`` is the HTTPRoute model and Linkerd's way of applying it (rule precedence, header/cookie
matches, random weighted backends); ``metrics`` renders linkerd-proxy's inbound series; ``queries`` holds
the PromQL templates Flagger sends; ``plugin`` is the provider seam entry. What Flagger writes and renders
lives with the controller: ``harness.controllers.flagger.gateway_api`` (the HTTPRoute of a Canary step or
A/B experiment) and ``harness.controllers.flagger.linkerd_queries``. Sources:
docs/linkerd-gateway-api-semantics.md.
"""

"""Linkerd with Gateway API routing (Flagger ``meshProvider=gatewayapi:v1beta1``), pure.

``httproute`` is the HTTPRoute model and Linkerd's way of applying it (rule precedence, header/cookie
matches, random weighted backends); ``flagger_route`` builds the HTTPRoute Flagger writes for a Canary
step or an A/B experiment; ``metrics`` renders linkerd-proxy's inbound series; ``queries`` holds the PromQL
Flagger sends. Sources and versions: ``docs/linkerd-gateway-api-semantics.md``.
"""

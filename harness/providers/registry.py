"""The providers the harness emulates and observes, by name."""

from __future__ import annotations

from harness.errors import InputError
from harness.providers.base import ProviderPlugin
from harness.providers.linkerd.plugin import LINKERD_GATEWAY_API
from harness.providers.traefik.plugin import TRAEFIK

PROVIDERS: dict[str, ProviderPlugin] = {plugin.name: plugin for plugin in (TRAEFIK, LINKERD_GATEWAY_API)}
DEFAULT_PROVIDER = TRAEFIK.name
# Flagger provider names people reach for that mean something else than what is emulated.
NOT_EMULATED = {
    "linkerd": "Flagger's 'linkerd' provider is the SMI router (TrafficSplit); the Linkerd tutorial runs "
    "Flagger with meshProvider gatewayapi:v1beta1 (HTTPRoute), which is the emulated Linkerd provider",
}


def provider_named(name: str) -> ProviderPlugin:
    try:
        return PROVIDERS[name]
    except KeyError:
        hint = f"; {NOT_EMULATED[name]}" if name in NOT_EMULATED else ""
        raise InputError(f"provider: expected one of {sorted(PROVIDERS)}, found {name!r}{hint}") from None

"""The providers the harness emulates and observes, by name."""

from __future__ import annotations

from harness.errors import InputError
from harness.providers.base import ProviderPlugin
from harness.providers.traefik.plugin import TRAEFIK

PROVIDERS: dict[str, ProviderPlugin] = {plugin.name: plugin for plugin in (TRAEFIK,)}
DEFAULT_PROVIDER = TRAEFIK.name


def provider_named(name: str) -> ProviderPlugin:
    try:
        return PROVIDERS[name]
    except KeyError:
        raise InputError(f"provider: expected one of {sorted(PROVIDERS)}, found {name!r}") from None

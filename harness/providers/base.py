"""The provider seam: the router a controller shifts traffic on, as the harness needs to know it.

A provider plug-in names itself (a Canary's ``spec.provider``, a scenario's ``provider:``), the builtin
PromQL templates the controller runs against its router's metrics, the series and label those read, and
whether its routes honour ``analysis.match`` (header/cookie cohorts) or send everything by weight. The local
backend starts the provider's router stand-in (``harness.backends.local``); real clusters run the real one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

Side = Literal["primary", "canary"]


@dataclass(frozen=True)
class ProviderPlugin:
    """One traffic provider."""

    name: str  # as in a Canary's spec.provider
    builtin_templates: Mapping[str, str]  # builtin metric name → the observer's Go query template
    request_series: str  # the series the builtin queries read
    service_label: Callable[[str, str, Side, int], str]  # (namespace, service, side, port) → label value
    routes_by_match: bool  # False: analysis.match is ignored and a match rollout sends 100 % (spec §2.11)
    # The builtin request-duration value times this is milliseconds: Flagger's observer converts it
    # (Traefik's query is in ms: 1; the HttpObserver's in seconds: ``time.Duration(int64(value*1000))``).
    duration_to_ms: float = 1.0

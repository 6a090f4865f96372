"""The weights the router applies, read from the object the controller writes them to.

``RouterObject`` says where that object is and how to read (primary, canary) from it: Flagger's
TraefikService or HTTPRoute, Argo's TraefikService. ``RouterWeights`` reads it once per observation and
puts the weights on the newest status sample; a change of weights without a status write becomes a sample
of its own, so the max weight sees the router too. Both backends use it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from harness.backends.kubernetes.api import ClusterApi
from harness.backends.kubernetes.manifests import APP_NAME
from harness.clock import Clock
from harness.controllers.flagger.model import CanaryStatus
from harness.errors import ClusterError
from harness.model import StatusSample


@dataclass(frozen=True)
class RouterObject:
    """The object the controller writes the weights to, and how to read (primary, canary) from it."""

    group: str
    version: str
    plural: str
    weights: Callable[[Mapping[str, Any], str], tuple[int, int] | None]


@dataclass
class RouterWeights:
    """Reads one run's router object and attaches its weights to the status samples."""

    api: ClusterApi
    router: RouterObject
    clock: Clock
    diagnostics: MutableMapping[str, str]
    last: tuple[int, int] | None = None  # the weights of the previous read

    def attach(
        self, namespace: str, samples: list[StatusSample], status: CanaryStatus | None
    ) -> list[StatusSample]:
        router = self.router
        try:
            found = self.api.get_custom_object(
                router.group, router.version, router.plural, namespace, APP_NAME
            )
        except ClusterError as exc:
            self.diagnostics[f"{router.plural.rstrip('s')}-error"] = str(exc)
            return samples
        weights = router.weights(found, APP_NAME) if found is not None else None
        if weights is None:
            return samples
        changed, self.last = weights != self.last, weights
        if samples:
            samples[-1] = dataclasses.replace(samples[-1], router_weights=weights)
        elif changed and status is not None:
            samples.append(StatusSample(at=self.clock.now(), status=status, router_weights=weights))
        return samples

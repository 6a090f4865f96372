"""Which load the canary workload served (pure): by the router's workload header, else by the timeline.

The version label alone is wrong once Flagger promotes: from the Promoting tick on, the primary runs
the new revision too, so "requests of the canary version" mixes both workloads (issue 16).

- Local backend: the router names the child that served each answer (``WORKLOAD_HEADER``), the load
  generator keeps it per bucket (``LoadBucket.workload``), and the canary's requests are exactly those.
- Kubernetes: Traefik does not say which TraefikService child answered, so the workload is derived from
  the status timeline. Before the first Promoting/Finalising/Succeeded status after the trigger, the
  primary still runs the stable revision and every request of the canary version is the canary's.
  From then on, a bucket of the canary version is split by the router weights (canary ÷ (primary +
  canary)) in effect at its midpoint. Its bad requests go to the canary first for a run-time fault (only
  the canary's pods got it), and in proportion for a fault in the revision (the promoted primary has it
  too). That is an estimate, and the verdict's notes say so.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence

from harness.controllers.flagger.model import Phase
from harness.model import LoadBucket, StatusSample
from harness.verdict.measure import midpoint

PRIMARY_HAS_NEW_VERSION = frozenset({Phase.PROMOTING, Phase.FINALISING, Phase.SUCCEEDED})


def workload_recorded(load: Sequence[LoadBucket]) -> bool:
    """Did the load generator see the router's workload header (the local backend)?"""
    return any(bucket.workload for bucket in load)


def canary_load(
    load: Sequence[LoadBucket],
    samples: Sequence[StatusSample],
    canary_version: str,
    *,
    trigger: float | None,
    fault_in_revision: bool = False,
) -> list[LoadBucket]:
    """The buckets (or estimated parts of buckets) the canary workload served."""
    if workload_recorded(load):
        return [b for b in load if b.workload == "canary"]
    promoted_at = _primary_promoted_at(samples, trigger)
    served: list[LoadBucket] = []
    shared: dict[float, list[LoadBucket]] = defaultdict(list)  # time bucket → the canary version's parts
    for bucket in load:
        if bucket.version != canary_version:
            continue
        if promoted_at is None or midpoint(bucket) < promoted_at:
            served.append(bucket)
        else:
            shared[bucket.start].append(bucket)
    for parts in shared.values():
        share = _canary_share(samples, midpoint(parts[0]))
        served += _split(parts, share, bad_first=not fault_in_revision)
    return served


def _split(parts: list[LoadBucket], share: float, *, bad_first: bool) -> list[LoadBucket]:
    """The canary's estimated part of one time bucket: ``share`` of its requests, bad first or pro rata."""
    if not bad_first:
        scaled = [(b, round(b.requests * share)) for b in parts]
    else:
        quota = round(sum(b.requests for b in parts) * share)
        scaled = []
        for b in sorted(parts, key=lambda b: b.bad / b.requests if b.requests else 0.0, reverse=True):
            take = min(b.requests, quota)
            quota -= take
            scaled.append((b, take))
    return [dataclasses.replace(b, requests=n, bad=round(b.bad * n / b.requests)) for b, n in scaled if n > 0]


def attribution_note(load: Sequence[LoadBucket]) -> str:
    if workload_recorded(load):
        return "canary workload from the router's header"
    return "canary workload estimated from the status timeline (router weights after promotion)"


def _primary_promoted_at(samples: Sequence[StatusSample], trigger: float | None) -> float | None:
    """When the primary started running the new revision: the first Promoting/… status after the trigger."""
    for sample in sorted(samples, key=lambda s: s.at):
        if (trigger is None or sample.at >= trigger) and sample.status.phase in PRIMARY_HAS_NEW_VERSION:
            return sample.at
    return None


def _canary_share(samples: Sequence[StatusSample], at: float) -> float:
    """canary ÷ (primary + canary) of the router weights in effect at ``at`` (status weights if unknown)."""
    primary, canary = 100, 0
    for sample in sorted(samples, key=lambda s: s.at):
        if sample.at > at:
            break
        if sample.router_weights is not None:
            primary, canary = sample.router_weights
        else:
            primary, canary = 100 - sample.status.canary_weight, sample.status.canary_weight
    total = primary + canary
    return canary / total if total > 0 else 0.0

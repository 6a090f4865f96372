"""Traps of a cohort (A/B) experiment, found before running (pure; flagger-semantics §2.11).

- ``match_traps``: on Traefik the ``match`` is ignored and every iteration sends 100 % of the traffic to
  the canary; on Gateway API (Linkerd) Flagger silently drops a match list it cannot map
  (``harness.controllers.flagger.gateway_api.exposure_problems``), with the same result.
- ``cohort_sample_traps``: a captured cohort whose requests inside one check window stay below the
  policy's minimum sample at the planned rps (the assignment of users to cohorts is discrete: 5 % of
  20 users is 1 user, or none).
- ``deadline_traps``: ``iterations × interval`` until promotion longer than the policy's longest experiment
  without a decision. Flagger's ``progressDeadlineSeconds`` does not bound it (it only applies while a
  workload is not ready, §2.7).
- ``hostname_traps``: ``service.hosts`` that the clients' Host headers miss (a 404 for every request).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from harness.controllers.flagger.gateway_api import exposure_problems, flagger_httproute
from harness.controllers.flagger.model import CanarySpec
from harness.controllers.flagger.queries import metric_window
from harness.plan.model import Trap
from harness.providers.linkerd.httproute import Request, RouteError
from harness.scenario.cohorts import cohort_reaches_canary, cohort_sizes
from harness.scenario.model import Cohort, LoadProfile
from harness.scenario.policy import Policy

GATEWAY_API = ("gatewayapi:v1beta1", "gatewayapi:v1")


def match_traps(spec: CanarySpec) -> tuple[Trap, ...]:
    """What ``analysis.match`` really exposes on the Canary's provider."""
    if not spec.analysis.match:
        return ()
    if spec.provider == "traefik":
        return (
            Trap(
                "ab-testing-on-traefik",
                "error",
                "A/B testing (match) is ignored by the Traefik router: every iteration sends 100 % of the "
                "traffic to the canary, the cohort boundary is not enforced (§2.11)",
                "use provider gatewayapi:v1beta1 (Linkerd) for a bounded cohort, or the canary strategy",
            ),
        )
    if spec.provider not in GATEWAY_API:
        return ()
    traps = []
    for problem in exposure_problems(spec):
        if problem.everyone:
            traps.append(
                Trap(
                    "ab-match-exposes-everyone",
                    "error",
                    f"{problem.message}: the cohort rule matches every request, so each iteration sends "
                    "100 % of the traffic to the canary",
                    "write every analysis.match entry with headers (exact or regex) or queryParams",
                )
            )
        else:
            traps.append(
                Trap("ab-match-widened", "warning", problem.message, "move the uri into service.match")
            )
    return tuple(traps)


def cohort_sample_traps(
    spec: CanarySpec, load: LoadProfile, policy: Policy, rps: float | None = None
) -> tuple[Trap, ...]:
    """Captured cohorts too small for ``policy.min_samples_per_interval`` in the shortest check window."""
    if not spec.analysis.match or spec.provider not in GATEWAY_API or not spec.analysis.metrics:
        return ()
    captured = captured_cohorts(spec, load)
    total_rps = load.rps_at(0.0) if rps is None else rps
    window = min(metric_window(m) for m in spec.analysis.metrics)
    sizes = {s.name: s for s in cohort_sizes(load.cohorts, load.users)}
    traps = []
    if load.cohorts and not captured:
        traps.append(_nobody_captured(load.cohorts))
    for cohort in captured:
        size = sizes[cohort.name]
        samples = total_rps * size.share * window
        if samples < policy.min_samples_per_interval:
            traps.append(_too_small(cohort, size.users, load.users, samples, window, total_rps, policy))
    return tuple(traps)


def _nobody_captured(cohorts: Sequence[Cohort]) -> Trap:
    names = ", ".join(c.name for c in cohorts)
    return Trap(
        "cohort-not-captured",
        "error",
        f"no declared cohort ({names}) matches analysis.match: the canary gets no traffic, every check finds "
        "no values",
        "make a cohort's header/cookie match the Canary's analysis.match exactly",
    )


def _too_small(
    cohort: Cohort, users: int, all_users: int, samples: float, window: float, rps: float, policy: Policy
) -> Trap:
    minimum = policy.min_samples_per_interval
    if users == 0:
        message = f"cohort {cohort.name} ({cohort.fraction:.0%} of {all_users} users) gets no synthetic user"
        remedy = f"raise load.users (≥ {math.ceil(1 / cohort.fraction)}) or the cohort's fraction"
    else:
        needed = rps * minimum / samples
        message = (
            f"cohort {cohort.name}: {users} of {all_users} users send {samples:.0f} requests per "
            f"{window:g} s check window at {rps:g} req/s, below the minimum sample {minimum}"
        )
        remedy = (
            f"raise the load to ≥ {math.ceil(needed)} req/s, the cohort's fraction, or the metric interval"
        )
    return Trap("cohort-too-small", "warning", message, remedy)


def deadline_traps(spec: CanarySpec, policy: Policy) -> tuple[Trap, ...]:
    """An A/B or Blue/Green run whose iterations outlast the policy's longest experiment.

    A healthy run decides at the earliest ``(iterations + 3) × interval`` after the detection tick: the
    start tick (iteration 1), ``iterations − 1`` iteration ticks, then Promoting, Finalising and
    Succeeded one tick each (§2.11; waiting for the primary's rollout adds ticks)."""
    analysis = spec.analysis
    if analysis.iterations <= 0:
        return ()
    interval, limit = analysis.interval_seconds, policy.progress_deadline_seconds
    to_decision = (analysis.iterations + 3) * interval
    if to_decision <= limit:
        return ()
    return (
        Trap(
            "iterations-exceed-deadline",
            "warning",
            f"{analysis.iterations} iterations × {interval:g} s: a healthy run decides ≥ {to_decision:g} s "
            f"after the detection (promotion starts at {(analysis.iterations + 1) * interval:g} s), longer "
            f"than the policy's {limit:g} s without a decision; progressDeadlineSeconds "
            f"({spec.progress_deadline_seconds} s) does not stop it, it only applies to readiness",
            f"at most {max(1, math.floor(limit / interval) - 3)} iterations at this interval, or a shorter "
            "interval",
        ),
    )


def captured_cohorts(spec: CanarySpec, load: LoadProfile) -> tuple[Cohort, ...]:
    """The declared cohorts whose requests the Canary's A/B route sends to the canary."""
    if not spec.analysis.match or spec.provider not in GATEWAY_API:
        return ()
    try:
        route = flagger_httproute(spec, 0, 100)
    except RouteError:
        return ()
    canary, paths = f"{spec.service_name}-canary", tuple(dict.fromkeys(r.path for r in load.routes))
    return tuple(c for c in load.cohorts if cohort_reaches_canary(c, route, canary, paths))


def canary_traffic_share(spec: CanarySpec, load: LoadProfile) -> float:
    """Share of all requests an A/B iteration (routes 0/100) sends to the canary.

    1.0 where the match is not enforced (Traefik, an exposure problem); else the captured cohorts' share
    of the synthetic users. The planner's A/B weight schedule is ``100 × share`` on this provider.
    """
    if not spec.analysis.match or spec.provider not in GATEWAY_API:
        return 1.0
    if any(p.everyone for p in exposure_problems(spec)):
        return 1.0
    captured = {c.name for c in captured_cohorts(spec, load)}
    return sum(s.share for s in cohort_sizes(load.cohorts, load.users) if s.name in captured)


def hostname_traps(spec: CanarySpec, client_hosts: Sequence[str]) -> tuple[Trap, ...]:
    """``service.hosts`` the clients do not send: Linkerd answers them 404 (no route matches)."""
    if spec.provider not in GATEWAY_API:
        return ()
    try:
        route = flagger_httproute(spec, 100, 0)
    except RouteError:
        return ()
    missed = [h for h in client_hosts if not route.hosts_match(Request.of("GET", "/", {"Host": h}))]
    if not missed:
        return ()
    return (
        Trap(
            "hostnames-miss-clients",
            "error",
            f"service.hosts {list(route.hostnames)} does not include {missed}: with an HTTPRoute attached, "
            "Linkerd's client proxy answers requests no route matches with 404",
            f"add {missed} to service.hosts, or drop service.hosts",
        ),
    )


def cohort_traps(spec: CanarySpec, load: LoadProfile, policy: Policy) -> tuple[Trap, ...]:
    """The match, sample and deadline families, in a stable order."""
    return match_traps(spec) + cohort_sample_traps(spec, load, policy) + deadline_traps(spec, policy)

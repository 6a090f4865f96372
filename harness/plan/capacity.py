"""How many scenarios run at once: a resource estimate per scenario against a node budget (pure).

The default ``--parallel`` for the kubernetes backend comes from here; local runs are serial (1) because
every local run already uses both cores of a small machine (router, app processes, Locust, controller).

Per-scenario estimate, for the catalog's heaviest load (300 requests/s through Traefik):
- faulty-app primary + canary pods: ≈ 0.30 vCPU serving the load, memory limit 2 × 256 MiB
  (``cluster/app/deployment.yaml``; memory-leak grows a pod to its limit);
- one Locust process (``FastHttpUser``, ≈ 2 000 requests/s per core): ≈ 0.15 vCPU, 150 MiB;
- Traefik's share of the requests and the harness's own polling: ≈ 0.05 vCPU, 100 MiB.
Shared by all scenarios on the node: the kind control plane (API server, etcd, controllers), Flagger,
its bundled Prometheus and Traefik at rest, ≈ 1.0 vCPU and 3 GiB. A quarter of the CPU is kept free,
because latency guardrails would measure CPU contention instead of the canary if the node saturated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Resources:
    vcpu: float
    memory_gib: float


CI_KIND_NODE = Resources(vcpu=4.0, memory_gib=16.0)  # a GitHub-hosted ubuntu-24.04 runner
SHARED = Resources(vcpu=1.0, memory_gib=3.0)
PER_SCENARIO = Resources(vcpu=0.5, memory_gib=0.75)
CPU_HEADROOM = 0.25


def default_parallel(
    backend: str,
    node: Resources = CI_KIND_NODE,
    *,
    shared: Resources = SHARED,
    per_scenario: Resources = PER_SCENARIO,
    headroom: float = CPU_HEADROOM,
) -> int:
    """Scenarios that fit at once on ``node`` (at least 1); always 1 for the local backend."""
    if backend != "kubernetes":
        return 1
    cpu = (node.vcpu * (1 - headroom) - shared.vcpu) / per_scenario.vcpu
    memory = (node.memory_gib - shared.memory_gib) / per_scenario.memory_gib
    return max(1, math.floor(min(cpu, memory) + 1e-9))

"""Soak the local data path: router + one faulty_app replica under a steady load for N minutes.

Samples the RSS of the router and the app every few seconds (``/proc/<pid>/status`` VmRSS), checks that
the load generator's per-second records are all there (no gap between consecutive buckets), and
journals every bucket through ``JournalWriter`` to record the journal's size per minute.

    .venv/bin/python bench/soak.py --minutes 10 --rps 500 --out /tmp/soak

Not a CI test: results go to ``<out>/soak.json`` and are summarised in ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.clock import ScaledClock
from harness.load.gateway import locust_driver
from harness.model import Ingress, LoadBucket, ObservedBatch
from harness.processes.ports import free_port
from harness.processes.procs import ManagedProcess, ProcessGroup
from harness.providers.traefik.router_client import start_router
from harness.report.journal import JournalWriter
from harness.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = """\
id: soak
description: steady load for the soak benchmark
canary: {canary}
policy: {policy}
stable: {{version: "1.0.0"}}
revision: {{version: "1.1.0"}}
load:
  users: {users}
  spawn_rate: {users}
  rps: {rps}
  routes: [{{path: /, method: GET, weight: 3}}, {{path: /api/orders, method: GET, weight: 1}}]
  request_timeout_seconds: 5
timing: {{warmup: 1m, recovery: 1m, max_duration: {minutes}m}}
expect: {{outcome: promoted}}
"""


@dataclass
class Soak:
    minutes: float
    rps: float
    samples: list[dict[str, float]] = field(default_factory=list)  # t, router_kib, app_kib, requests
    journal_bytes_per_minute: list[int] = field(default_factory=list)
    buckets: int = 0
    requests: int = 0
    bad: int = 0
    gaps: list[tuple[float, float]] = field(default_factory=list)  # (previous start, next start)
    load_problem: str | None = None


def rss_kib(proc: ManagedProcess) -> float:
    for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return float(line.split()[1])
    return float("nan")


def start_app(group: ProcessGroup) -> str:
    port = free_port()
    group.start(
        "faulty-app",
        [sys.executable, "-m", "faulty_app", "--host", "127.0.0.1", "--port", str(port)],
        env={"APP_VERSION": "1.0.0"},
    )
    url = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=1.0).status_code == 200:
                return url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("the app did not become ready within 20 s")


def check_gaps(buckets: list[LoadBucket], soak: Soak, last_start: float | None) -> float | None:
    for start in sorted({b.start for b in buckets}):
        if last_start is not None and start - last_start > 1.5:
            soak.gaps.append((last_start, start))
        last_start = start if last_start is None else max(last_start, start)
    return last_start


def run(minutes: float, rps: float, users: int, out: Path, sample_every: float) -> Soak:
    out.mkdir(parents=True, exist_ok=True)
    scenario_file = out / "soak.yaml"
    scenario_file.write_text(
        SCENARIO.format(
            canary=ROOT / "scenarios/canaries/faulty-app.yaml",
            policy=ROOT / "scenarios/policy.yaml",
            users=users,
            rps=rps,
            minutes=int(minutes) + 2,
        )
    )
    scenario = load_scenario(scenario_file)
    clock = ScaledClock(1.0)
    soak = Soak(minutes, rps)
    group = ProcessGroup(out / "processes")
    journal = JournalWriter(out / "journal.json")
    try:
        router = start_router(group, namespace="canary-chaos", service="faulty-app", backend_timeout=30.0)
        router.client.set_endpoints([start_app(group)], [])
        app = next(p for p in group.processes if p.name == "faulty-app")
        load = locust_driver(
            scenario, Ingress(url=router.url), clock=clock, run_dir=out / "load", bucket_real_seconds=1.0
        )
        load.start()
        t0 = time.monotonic()
        next_sample, next_minute, last_start = t0, t0 + 60, None
        try:
            while time.monotonic() - t0 < minutes * 60:
                buckets = list(load.collect())
                journal.observed(ObservedBatch(load=buckets))
                soak.buckets += len(buckets)
                soak.requests += sum(b.requests for b in buckets)
                soak.bad += sum(b.bad for b in buckets)
                last_start = check_gaps(buckets, soak, last_start)
                soak.load_problem = soak.load_problem or load.problem()
                now = time.monotonic()
                if now >= next_sample:
                    soak.samples.append(
                        {"t": round(now - t0, 1), "router_kib": rss_kib(router.process),
                         "app_kib": rss_kib(app), "requests": soak.requests}
                    )  # fmt: skip
                    print(json.dumps(soak.samples[-1]), flush=True)
                    next_sample += sample_every
                if now >= next_minute:
                    soak.journal_bytes_per_minute.append(journal.partial_path.stat().st_size)
                    next_minute += 60
                time.sleep(0.5)
        finally:
            load.stop()
            tail = list(load.collect())
            journal.observed(ObservedBatch(load=tail))
            soak.requests += sum(b.requests for b in tail)
            soak.bad += sum(b.bad for b in tail)
    finally:
        journal.close()
        group.stop_all()
    (out / "soak.json").write_text(json.dumps(asdict(soak), indent=1))
    return soak


def summary(soak: Soak, warmup_seconds: float = 60.0) -> dict[str, float]:
    warm = [s for s in soak.samples if s["t"] >= warmup_seconds] or soak.samples
    first, last = warm[0], warm[-1]
    span = max(1.0, soak.samples[-1]["t"])
    return {
        "achieved_rps": soak.requests / span,
        "error_fraction": soak.bad / max(1, soak.requests),
        "router_rss_after_warmup_mib": first["router_kib"] / 1024,
        "router_rss_end_mib": last["router_kib"] / 1024,
        "router_growth_mib": (max(s["router_kib"] for s in warm) - first["router_kib"]) / 1024,
        "app_rss_after_warmup_mib": first["app_kib"] / 1024,
        "app_rss_end_mib": last["app_kib"] / 1024,
        "app_growth_mib": (max(s["app_kib"] for s in warm) - first["app_kib"]) / 1024,
        "gaps": len(soak.gaps),
        "journal_mib_per_minute": (
            soak.journal_bytes_per_minute[-1] / len(soak.journal_bytes_per_minute) / 2**20
            if soak.journal_bytes_per_minute
            else 0.0
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rps", type=float, default=500.0)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--sample-every", type=float, default=5.0, help="RSS sampling period (s)")
    parser.add_argument("--max-growth-mib", type=float, default=20.0, help="router/app RSS bound")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="canary-chaos-soak-"))
    soak = run(args.minutes, args.rps, args.users, out, args.sample_every)
    figures = summary(soak)
    print(json.dumps({"out": str(out), "load_problem": soak.load_problem, **figures}, indent=1))
    ok = (
        figures["gaps"] == 0
        and soak.load_problem is None
        and figures["router_growth_mib"] < args.max_growth_mib
        and figures["app_growth_mib"] < args.max_growth_mib
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Router throughput and added latency, measured against hitting the app directly in the same run.

    .venv/bin/python bench/router_bench.py [--app faulty_app|standin] [--duration 5] [--rounds 2]

Starts one app replica and the router (90/10 split, both children on the same replica, so every request
costs the same), then runs ``wrk`` (Debian package) alternately against the app and the router:
- throughput at 32 connections (target: router ≥ 2,000 requests/s);
- latency at 4 connections (target: router p50 − direct p50 < 1 ms).
Falls back to a bounded Python load generator (httpx, asyncio) when ``wrk`` is missing.
Prints a Markdown table and a JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.processes.ports import free_port, wait_listening  # noqa: E402
from harness.processes.procs import ProcessGroup  # noqa: E402
from harness.providers.traefik.router_client import start_router  # noqa: E402

STANDIN = ROOT / "tests" / "local" / "standin_app.py"
PATH = "/api/orders"


@dataclass(frozen=True)
class Run:
    target: str  # "direct" or "router"
    connections: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int


def app_argv(app: str, port: int) -> list[str]:
    if app == "faulty_app":
        return [sys.executable, "-m", "faulty_app", "--host", "127.0.0.1", "--port", str(port)]
    return [sys.executable, str(STANDIN), "--host", "127.0.0.1", "--port", str(port)]


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not match:
        raise ValueError(f"unreadable wrk latency {text!r}")
    return float(match[1]) * _UNITS[match[2]]


def run_wrk(target: str, url: str, connections: int, duration: float) -> Run:
    argv = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{duration:g}s", "--latency", url + PATH]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=duration + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M)[1])  # type: ignore[index]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M)[1])  # type: ignore[index]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(non2xx[1]) if non2xx else 0
    errors += sum(map(int, socket_errors.groups())) if socket_errors else 0
    return Run(target, connections, rps, p50, p99, errors)


def run_python(target: str, url: str, connections: int, duration: float) -> Run:
    """Fallback load: ``connections`` keep-alive workers for ``duration`` seconds (bounded)."""
    import httpx

    async def main() -> tuple[list[float], int]:
        latencies: list[float] = []
        errors = 0
        stop_at = time.monotonic() + duration
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(limits=limits, timeout=5.0, trust_env=False) as http:

            async def worker() -> None:
                nonlocal errors
                while time.monotonic() < stop_at:
                    started = time.perf_counter()
                    try:
                        response = await http.get(url + PATH)
                        errors += response.status_code >= 400
                    except httpx.HTTPError:
                        errors += 1
                    latencies.append((time.perf_counter() - started) * 1000)

            await asyncio.gather(*(worker() for _ in range(connections)))
        return latencies, errors

    latencies, errors = asyncio.run(main())
    cuts = statistics.quantiles(latencies, n=100)
    return Run(target, connections, len(latencies) / duration, cuts[49], cuts[98], errors)


def bench(app: str, duration: float, rounds: int) -> dict[str, object]:
    load = run_wrk if shutil.which("wrk") else run_python
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp, ProcessGroup(Path(tmp)) as group:
        port = free_port()
        group.start("app", app_argv(app, port), env={"APP_VERSION": "v1"})
        if not wait_listening(port, 15.0):
            raise SystemExit(f"{app} did not start on port {port}")
        direct = f"http://127.0.0.1:{port}"
        router = start_router(group, namespace="bench", service="podinfo")
        router.client.set_endpoints([direct], [direct])
        router.client.set_routes(90, 10)
        load("warmup", router.url, 8, 1.0)
        load("warmup", direct, 8, 1.0)
        for _ in range(rounds):
            for connections in (32, 4):
                runs.append(load("direct", direct, connections, duration))
                runs.append(load("router", router.url, connections, duration))
        router.client.close()

    def median(target: str, connections: int, field: str) -> float:
        values = [getattr(r, field) for r in runs if r.target == target and r.connections == connections]
        return float(statistics.median(values))

    summary = {
        "router_rps_c32": median("router", 32, "requests_per_s"),
        "direct_rps_c32": median("direct", 32, "requests_per_s"),
        "router_p50_ms_c4": median("router", 4, "p50_ms"),
        "direct_p50_ms_c4": median("direct", 4, "p50_ms"),
    }
    summary["added_p50_ms_c4"] = summary["router_p50_ms_c4"] - summary["direct_p50_ms_c4"]
    summary["pass"] = summary["router_rps_c32"] >= 2000 and summary["added_p50_ms_c4"] < 1.0
    return {
        "app": app,
        "load_generator": "wrk" if load is run_wrk else "python-httpx",
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "duration_s": duration,
        "runs": [asdict(r) for r in runs],
        "summary": summary,
    }


def print_table(result: dict[str, object]) -> None:
    print(f"app={result['app']} load={result['load_generator']} cpus={result['cpus']}")
    print("| target | connections | requests/s | p50 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in result["runs"]:  # type: ignore[attr-defined]
        print(
            f"| {r['target']} | {r['connections']} | {r['requests_per_s']:.0f} | {r['p50_ms']:.3f} "
            f"| {r['p99_ms']:.3f} | {r['errors']} |"
        )
    print(json.dumps(result["summary"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_app = "faulty_app" if (ROOT / "faulty_app" / "__main__.py").exists() else "standin"
    parser.add_argument("--app", choices=["faulty_app", "standin"], default=default_app)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    result = bench(args.app, args.duration, args.rounds)
    print_table(result)
    raise SystemExit(0 if result["summary"]["pass"] else 1)  # type: ignore[index]


if __name__ == "__main__":
    main()

"""Healthy-path benchmark of faulty_app on this machine.

    .venv/bin/python bench/app_bench.py [--duration 10] [--rate 500] [--write FILE]

Starts ``python -m faulty_app`` (one worker) on a free loopback port, then for each case
(no faults; three installed faults that match no request):
  * max throughput: ``wrk -t1 -c32 -d{duration}s --latency`` (Debian's wrk), or, without wrk,
    a closed-loop asyncio client on 32 keep-alive connections;
  * latency at a fixed rate: an open-loop asyncio client sends ``--rate`` requests/s on
    keep-alive connections and measures each request from its *scheduled* send time
    (no coordinated omission).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token"
NON_MATCHING = [  # installed but never matching: measures the per-request decision cost
    {"kind": "http_errors", "rate": 1, "scope": {"header": {"name": "x-cohort", "value": "never"}}},
    {"kind": "latency", "delay_ms": 100, "scope": {"cookie": {"name": "cohort", "value": "never"}}},
    {"kind": "wrong_answer", "window": {"start_after_seconds": 1_000_000}},
]
REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@dataclass(frozen=True)
class Throughput:
    rps: float
    p50_ms: float
    p99_ms: float
    tool: str


@dataclass(frozen=True)
class FixedRate:
    target_rps: float
    achieved_rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_app() -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "APP_VERSION": "bench", "ADMIN_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
    env.pop("FAULTS", None)
    command = [
        sys.executable,
        "-m",
        "faulty_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/healthz", timeout=0.5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise RuntimeError("faulty_app did not start")
        yield base
    finally:
        proc.kill()
        proc.wait(5)


def install(base: str, faults: list[dict[str, object]]) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    response = httpx.put(base + "/admin/faults", content=json.dumps(faults), headers=headers, timeout=5)
    response.raise_for_status()


def wrk_throughput(url: str, duration: int, connections: int) -> Throughput:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", url]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=duration + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return Throughput(rps, _wrk_quantile(out, "50%"), _wrk_quantile(out, "99%"), "wrk")


def _wrk_quantile(out: str, label: str) -> float:
    value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


async def _request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    writer.write(REQUEST)
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
    await reader.readexactly(length)
    return head.startswith(b"HTTP/1.1 200")


async def _closed_loop(host: str, port: int, duration: float, connections: int) -> Throughput:
    latencies: list[float] = []
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await _request(reader, writer)
            latencies.append(time.perf_counter() - started)
        writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    latencies.sort()
    return Throughput(
        len(latencies) / duration,
        latencies[len(latencies) // 2] * 1000,
        latencies[int(len(latencies) * 0.99)] * 1000,
        "asyncio closed loop",
    )


async def _open_loop(host: str, port: int, rate: float, duration: float, connections: int) -> FixedRate:
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection(host, port))
    latencies: list[float] = []
    errors = 0

    async def one(scheduled: float) -> None:
        nonlocal errors
        connection = await pool.get()
        try:
            if not await _request(*connection):
                errors += 1
        finally:
            pool.put_nowait(connection)
        latencies.append(time.perf_counter() - scheduled)

    total = int(rate * duration)
    start = time.perf_counter() + 0.1
    tasks = []
    for index in range(total):
        scheduled = start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(scheduled)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    while not pool.empty():
        pool.get_nowait()[1].close()
    latencies.sort()

    def q(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return FixedRate(rate, total / elapsed, q(0.5), q(0.9), q(0.99), latencies[-1] * 1000, errors)


def run_case(
    base: str, faults: list[dict[str, object]], args: argparse.Namespace
) -> tuple[Throughput, FixedRate]:
    install(base, faults)
    host, port = base.removeprefix("http://").split(":")
    if shutil.which("wrk"):
        throughput = wrk_throughput(base + "/", args.duration, args.connections)
    else:
        throughput = asyncio.run(_closed_loop(host, int(port), args.duration, args.connections))
    fixed = asyncio.run(_open_loop(host, int(port), args.rate, args.duration, 16))
    return throughput, fixed


def table(results: dict[str, tuple[Throughput, FixedRate]], rate: float) -> str:
    lines = [
        "| case | max rps (1 worker) | p50 / p99 at max (ms) "
        f"| p50 / p90 / p99 / max at {rate:g} rps (ms) | errors |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, (tp, fx) in results.items():
        lines.append(
            f"| {name} | {tp.rps:,.0f} | {tp.p50_ms:.2f} / {tp.p99_ms:.2f} | "
            f"{fx.p50_ms:.2f} / {fx.p90_ms:.2f} / {fx.p99_ms:.2f} / {fx.max_ms:.1f} | {fx.errors} |"
        )
    return "\n".join(lines)


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor() or "unknown CPU",
    )
    load = os.getloadavg()[0]
    python = platform.python_version()
    return f"{os.cpu_count()} CPUs ({cpu}), Python {python}, load average before the run {load:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--rate", type=float, default=500.0, help="fixed request rate for the latency run")
    parser.add_argument("--connections", type=int, default=32, help="connections for the throughput run")
    parser.add_argument("--write", type=Path, help="write a Markdown section with the figures here")
    args = parser.parse_args(argv)
    where = machine()
    results: dict[str, tuple[Throughput, FixedRate]] = {}
    with running_app() as base:
        for name, faults in (("no faults", []), ("3 faults installed, none matching", NON_MATCHING)):
            results[name] = run_case(base, faults, args)
    text = table(results, args.rate)
    tool = next(iter(results.values()))[0].tool
    print(text)
    if args.write:
        command = "python bench/app_bench.py " + " ".join(argv if argv is not None else sys.argv[1:])
        args.write.write_text(_section(text, where, tool, command.strip(), args))
    return 0


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for name in ("uvicorn", "starlette", "httptools", "uvloop", "prometheus_client"):
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} not installed")
    return ", ".join(found)


def _section(text: str, where: str, tool: str, command: str, args: argparse.Namespace) -> str:
    return f"""## faulty_app healthy-path performance

Measured with `{command}` on {where}
(the machine was shared with other jobs). Versions: {_versions()}.
One uvicorn worker, route `/`, loopback, with the client and the server on the same machine.
Max throughput: {tool} (`wrk -t1 -c{args.connections} -d{args.duration}s --latency`).
Fixed rate: open-loop asyncio client, 16 keep-alive connections, {args.rate:g} requests/s for
{args.duration} s, latency measured from each request's scheduled send time.

{text}

Targets: ≥ 3,000 requests/s on one worker; p50 < 2 ms at 500 requests/s.
"""


if __name__ == "__main__":
    sys.exit(main())

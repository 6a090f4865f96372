"""The locustfile of the load generator. Imported ONLY by the Locust child (``python -m locust -f``).

Reads its ``ChildConfig`` from the JSON file named by ``$CANARY_LOADGEN_CONFIG``. Every process that runs
users (``local`` or ``worker``) aggregates its requests per bucket, version, status and serving workload
(the local router's ``WORKLOAD_HEADER``), cohort and route, and appends JSON
lines to ``<out>/load-<role><index>.jsonl`` at every bucket boundary, then once more on quit after
draining in-flight requests (see ``harness.load.model`` for the format).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent
from locust import FastHttpUser, events, task

from faulty_app.checksum import verify_body
from harness.load.model import (
    CONFIG_ENV,
    INDEX_ENV,
    ROLE_ENV,
    VERSION_HEADER,
    ChildConfig,
    RecordKey,
    Watermark,
    bucket_start,
    encode_record,
    is_bad,
    summarize,
)
from harness.model import NO_VERSION
from harness.providers.traefik.router_config import SIDES, WORKLOAD_HEADER
from harness.scenario.cohorts import OUTSIDE, cohort_for_user

CONFIG = ChildConfig.from_json(Path(os.environ[CONFIG_ENV]).read_text())
ROLE = os.environ.get(ROLE_ENV, "local")
INDEX = int(os.environ.get(INDEX_ENV, "0"))


@dataclass
class _Acc:
    latencies: list[float] = field(default_factory=list)
    bad: int = 0
    hurt: set[str] = field(default_factory=set)
    first_user: str = ""


class _Aggregator:
    """Per-process buckets; ``flush`` writes every finished bucket and a watermark."""

    def __init__(self, path: Path, length: float) -> None:
        self.path = path
        self.length = length
        self.inflight = 0
        self.stopping = False
        self.final = False
        self._buckets: dict[RecordKey, _Acc] = {}

    def record(self, key: RecordKey, latency_ms: float, bad: bool, user_id: str) -> None:
        """One answer; ``key`` without its start: (…, version, status, workload, cohort, route)."""
        key = (bucket_start(time.time(), self.length), *key[1:])
        acc = self._buckets.setdefault(key, _Acc(first_user=user_id))
        acc.latencies.append(latency_ms)
        if bad:
            acc.bad += 1
            acc.hurt.add(user_id)

    def flush(self, final: bool = False) -> None:
        if self.final:
            return
        through = bucket_start(time.time(), self.length)
        done = sorted(key for key in self._buckets if final or key[0] < through)
        lines = []
        for key in done:
            acc = self._buckets.pop(key)
            start, version, status, workload, cohort, route = key
            record = summarize(
                start, self.length, version, status, acc.latencies, acc.bad, acc.hurt, workload,
                cohort=cohort, route=route, first_user=acc.first_user,
            )  # fmt: skip
            lines.append(encode_record(record))
        lines.append(encode_record(Watermark(through, final)))
        with self.path.open("a", encoding="utf-8") as out:
            out.write("".join(line + "\n" for line in lines))
            out.flush()
        self.final = final

    def flush_loop(self) -> None:
        while not self.final:
            gevent.sleep(max(0.0, bucket_start(time.time(), self.length) + self.length - time.time()) + 0.01)
            self.flush()

    def drain_and_close(self) -> None:
        """Stop issuing requests, wait (bounded) for those in flight, then write everything."""
        self.stopping = True
        deadline = time.monotonic() + CONFIG.request_timeout_seconds + 1.0
        while self.inflight > 0 and time.monotonic() < deadline:
            gevent.sleep(0.02)
        self.flush(final=True)


AGGREGATOR: _Aggregator | None = None
if ROLE != "master":
    Path(CONFIG.out_dir).mkdir(parents=True, exist_ok=True)
    AGGREGATOR = _Aggregator(Path(CONFIG.out_dir) / f"load-{ROLE}{INDEX}.jsonl", CONFIG.bucket_seconds)


def _on_init(**_kwargs: Any) -> None:
    if AGGREGATOR is not None:
        AGGREGATOR.flush()  # an empty first watermark: the parent knows this process is up
        gevent.spawn(AGGREGATOR.flush_loop)


def _on_quitting(**_kwargs: Any) -> None:
    if AGGREGATOR is not None:
        AGGREGATOR.drain_and_close()


def _on_quit(**_kwargs: Any) -> None:
    if AGGREGATOR is not None:
        AGGREGATOR.flush(final=True)


# locust's EventHook.add_listener carries no annotations
events.init.add_listener(_on_init)  # type: ignore[no-untyped-call]
events.quitting.add_listener(_on_quitting)  # type: ignore[no-untyped-call]
events.quit.add_listener(_on_quit)  # type: ignore[no-untyped-call]


def _valid_body(content: bytes | None) -> bool:
    try:
        payload = json.loads(content or b"")
    except ValueError:
        return False
    return isinstance(payload, dict) and verify_body(payload)


_USER_NUMBERS = itertools.count()


class SyntheticUser(FastHttpUser):
    """One synthetic user: a stable id, an optional cohort, paced to ``rps / users`` requests/s."""

    host = CONFIG.url
    network_timeout = CONFIG.request_timeout_seconds
    connection_timeout = CONFIG.request_timeout_seconds
    max_retries = 0

    def on_start(self) -> None:
        number = next(_USER_NUMBERS)
        self.user_id = f"w{INDEX}u{number:04d}" if ROLE == "worker" else f"u{number:04d}"
        seeded = f"{CONFIG.seed}:{self.user_id}" if CONFIG.seed else self.user_id
        self.rng = random.Random(seeded)  # noqa: S311 - route/body choice, not security
        cohort = cohort_for_user(
            number, CONFIG.cohorts, index=INDEX, workers=CONFIG.workers, seed=CONFIG.seed
        )
        self.cohort = "" if not CONFIG.cohorts else (cohort.name if cohort else OUTSIDE)
        self.headers: dict[str, str] = dict(cohort.headers) if cohort else {}  # the Cookie header included
        if CONFIG.host_header:
            self.headers["Host"] = CONFIG.host_header
        self.last_start = time.monotonic()

    def wait_time(self) -> float:
        rps = CONFIG.rps_at(time.time() - CONFIG.start_epoch)
        if rps <= 0:
            return 0.25
        return max(0.0, CONFIG.users / rps - (time.monotonic() - self.last_start))

    @task
    def hit(self) -> None:
        assert AGGREGATOR is not None
        if AGGREGATOR.stopping:
            gevent.sleep(1.0)
            return
        self.last_start = time.monotonic()
        route = self.rng.choices(CONFIG.routes, weights=[r.weight for r in CONFIG.routes])[0]
        body = None
        if route.validate_checksum:
            body = {"item": f"widget-{self.rng.randrange(10_000)}", "quantity": self.rng.randint(1, 9)}
        AGGREGATOR.inflight += 1
        began = time.perf_counter()
        try:
            with self.client.request(
                route.method, route.path, headers=self.headers, json=body, catch_response=True
            ) as response:
                latency_ms = (time.perf_counter() - began) * 1000.0
                status = int(response.status_code or 0)
                headers = getattr(response, "headers", None) or {}
                version = (headers.get(VERSION_HEADER) if status else None) or NO_VERSION
                served_by = (headers.get(WORKLOAD_HEADER) if status else None) or ""
                workload = served_by if served_by in SIDES else ""
                valid = not (200 <= status < 300 and route.validate_checksum) or _valid_body(response.content)
                bad = is_bad(status, valid)
                key = (0.0, version, status, workload, self.cohort, f"{route.method} {route.path}")
                AGGREGATOR.record(key, latency_ms, bad, self.user_id)
                if bad:
                    response.failure(f"bad answer: status {status}, valid body {valid}")
                else:
                    response.success()
        finally:
            AGGREGATOR.inflight -= 1

"""Recorded journals for the report tests, built programmatically by a tiny Flagger-like simulation.

``build(kind)`` gives a RunRecord for kind ∈ {"rolled-back-go", "no-go", "inconclusive"};
``write_interrupted(path)`` leaves the ``.partial.jsonl`` of a run killed mid-analysis.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.controllers.flagger.model import CanaryEvent, CanaryStatus, MetricResult, Phase
from harness.model import Decision, LoadBucket, Mark, Measure, ObservedBatch, StatusSample, Verdict
from harness.report.journal import JournalWriter, RunRecord, canary_hash, rollback_conditions

KINDS = ("rolled-back-go", "no-go", "inconclusive")
PRIMARY, CANARY = "1.0.0", "1.1.0"
BUCKET = 10.0
TRIGGER = 30.0
SUCCESS_QUERY = 'sum(rate(traefik_service_requests_total{service=~"test-podinfo-canary.*",code!~"5.."}[1m]))'


@dataclass(frozen=True)
class Setup:
    scenario_id: str
    step_weight: int
    max_weight: int
    fault_at: float | None  # seconds after the trigger
    error_fraction: float
    rps: float
    abort_limit: float
    weight_limit: int
    users_limit: int
    threshold: int = 5
    interval: float = 60.0


SETUPS = {
    "rolled-back-go": Setup("http-500-burst", 10, 50, 200.0, 1.0, 20.0, 420.0, 50, 150),
    "no-go": Setup("late-errors-overshoot", 20, 50, 220.0, 0.5, 20.0, 300.0, 50, 50),
    "inconclusive": Setup("cohort-miss", 10, 30, None, 0.0, 0.6, 420.0, 50, 50),
}


def canary_manifest(setup: Setup) -> dict[str, Any]:
    """A Flagger Canary for podinfo behind Traefik, with the setup's analysis."""
    return {
        "apiVersion": "flagger.app/v1beta1",
        "kind": "Canary",
        "metadata": {"name": "podinfo", "namespace": "test"},
        "spec": {
            "provider": "traefik",
            "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"},
            "progressDeadlineSeconds": 600,
            "service": {"port": 80, "targetPort": 9898},
            "analysis": {
                "interval": "1m",
                "threshold": setup.threshold,
                "maxWeight": setup.max_weight,
                "stepWeight": setup.step_weight,
                "metrics": [
                    {"name": "request-success-rate", "interval": "1m", "thresholdRange": {"min": 99}},
                    {"name": "request-duration", "interval": "1m", "thresholdRange": {"max": 500}},
                ],
            },
        },
    }


class _Sim:
    """Flagger's tick loop in miniature (spec §3.1): detection, start, analysis ticks, rollback/promotion."""

    def __init__(self, setup: Setup) -> None:
        self.s = setup
        self.weight, self.failed, self.phase = 0, 0, Phase.PROGRESSING
        self.events: list[CanaryEvent] = []
        self.checks: list[MetricResult] = []
        self.marks: list[Mark] = [Mark(TRIGGER, "trigger", "new revision 1.1.0 applied")]
        self.weights: list[tuple[float, int, Phase, int]] = [(0.0, 0, Phase.SUCCEEDED, 0)]
        self.rollback_at: float | None = None
        self.peak = 0

    def fault_active(self, at: float) -> bool:
        start = self.s.fault_at
        return start is not None and TRIGGER + start <= at < (self.rollback_at or float("inf"))

    def event(self, at: float, text: str, kind: str = "Normal") -> None:
        self.events.append(CanaryEvent(at, "Warning" if kind == "Warning" else "Normal", text, self.phase))

    def run(self) -> float:
        s, at = self.s, TRIGGER
        self.event(at, "New revision detected! Scaling up podinfo.test")
        self.note(at)
        at += s.interval
        self.event(at, "Starting canary analysis for podinfo.test")
        self.advance(at)
        for _ in range(20):
            at += s.interval
            if self.phase != Phase.PROGRESSING:
                return self.finish_promotion(at)
            if self.failed >= s.threshold:
                return self.roll_back(at)
            self.analyse(at)
        return at

    def analyse(self, at: float) -> None:
        rate = 100.0 - self.error_share(at - 60.0, at) * 100.0
        ok = rate >= 99.0
        self.checks.append(MetricResult(at, "request-success-rate", SUCCESS_QUERY, round(rate, 2), ok))
        self.checks.append(MetricResult(at, "request-duration", "histogram_quantile(0.99, …)", 99.0, True))
        if not ok:
            self.failed += 1
            self.event(at, f"Halt podinfo.test advancement success rate {rate:.2f}% < 99%", "Warning")
        elif self.weight >= self.s.max_weight:
            self.event(at, "Copying podinfo.test template spec to podinfo-primary.test")
            self.phase = Phase.PROMOTING
        else:
            self.advance(at)
        self.note(at)

    def advance(self, at: float) -> None:
        self.weight = min(100, self.weight + self.s.step_weight)
        self.peak = max(self.peak, self.weight)
        self.event(at, f"Advance podinfo.test canary weight {self.weight}")
        self.note(at)

    def roll_back(self, at: float) -> float:
        self.event(at, f"Rolling back podinfo.test failed checks threshold reached {self.failed}", "Warning")
        self.phase, self.weight, self.failed, self.rollback_at = Phase.FAILED, 0, 0, at
        self.event(at, "Canary failed! Scaling down podinfo.test", "Warning")
        self.marks.append(Mark(at, "rollback", "failed checks threshold reached"))
        self.note(at)
        return at + 60.0

    def finish_promotion(self, at: float) -> float:
        self.event(at, "Routing all traffic to primary")
        self.phase, self.weight = Phase.FINALISING, 0
        self.note(at)
        at += self.s.interval
        self.phase = Phase.SUCCEEDED
        self.event(at, "Promotion completed! Scaling down podinfo.test")
        self.marks.append(Mark(at, "promotion", "canary promoted"))
        self.note(at)
        return at + 60.0

    def note(self, at: float) -> None:
        self.weights.append((at, self.weight, self.phase, self.failed))

    def state_at(self, at: float) -> tuple[int, Phase, int]:
        current = self.weights[0]
        for entry in self.weights:
            if entry[0] <= at:
                current = entry
        return current[1], current[2], current[3]

    def error_share(self, low: float, high: float) -> float:
        fault = self.s.fault_at
        if fault is None:
            return 0.0
        start = TRIGGER + fault
        return (
            self.s.error_fraction
            * max(0.0, min(high, self.rollback_at or high) - max(low, start))
            / (high - low)
        )


def _load(sim: _Sim, end: float) -> list[LoadBucket]:
    buckets, user = [], 0
    for index in range(int(end // BUCKET)):
        start = index * BUCKET
        weight = sim.state_at(start)[0]
        total = round(sim.s.rps * BUCKET)
        canary = round(total * weight / 100)
        bad = round(canary * sim.s.error_fraction) if sim.fault_active(start) else 0
        hurt = tuple(f"user-{(user + k) % 400:03d}" for k in range(min(bad, 3)))
        user += len(hurt)
        slow = 180.0 if bad else 0.0
        buckets.append(LoadBucket(start, BUCKET, PRIMARY, 200, total - canary, 0, 12.0, 38.0, 61.0, 90.0))
        if canary - bad:
            buckets.append(
                LoadBucket(
                    start, BUCKET, CANARY, 200, canary - bad, 0, 14.0, 44 + slow, 70 + slow, 120 + slow
                )
            )
        if bad:
            buckets.append(LoadBucket(start, BUCKET, CANARY, 500, bad, bad, 3.0, 9.0, 15.0, 20.0, hurt))
    return buckets


def _samples(sim: _Sim, end: float) -> list[StatusSample]:
    samples = []
    for index in range(int(end // BUCKET) + 1):
        at = index * BUCKET
        weight, phase, failed = sim.state_at(at)
        status = CanaryStatus(
            phase=phase, canary_weight=weight, failed_checks=failed, last_transition_time=at
        )
        samples.append(StatusSample(at, status, (100 - weight, weight)))
    return samples


def build(kind: str) -> RunRecord:
    """A complete recorded run of one of ``KINDS``."""
    setup = SETUPS[kind]
    sim = _Sim(setup)
    end = sim.run()
    if setup.fault_at is not None:
        sim.marks.append(Mark(TRIGGER + setup.fault_at, "fault_on", "http 500 on 100% of canary requests"))
    load = _load(sim, end)
    hurt_users = len({u for b in load for u in b.hurt_users})
    verdict = _verdict(kind, setup, sim, hurt_users)
    manifest = canary_manifest(setup)
    return RunRecord(
        run_id=f"20260101T120000Z-{setup.scenario_id}",
        scenario_id=setup.scenario_id,
        scenario_file=f"scenarios/{setup.scenario_id}.yaml",
        scenario={
            "id": setup.scenario_id,
            "canary": "canaries/podinfo.yaml",
            "expect": {"abort_within": "7m"},
        },
        description=f"Recorded {kind} run of podinfo behind Traefik.",
        canary_manifest=manifest,
        canary_hash=canary_hash(manifest),
        rollback_conditions=rollback_conditions(manifest),
        backend="local",
        time_scale=60.0,
        started_at="2026-01-01T12:00:00Z",
        finished_at="2026-01-01T12:00:15Z",
        tool_versions={
            "python": "3.11.7",
            "canary-chaos": "0.1.0",
            "locust": "2.47.0",
            "prometheus": "2.42.0",
        },
        git_commit="d33ea5416988b9b9e2b4da82efc86fc460530e0f",
        primary_version=PRIMARY,
        canary_version=CANARY,
        complete=True,
        verdict=verdict,
        plan={"abort_within": {"min": 310.0, "max": 370.0}} if kind == "rolled-back-go" else None,
        marks=tuple(sorted(sim.marks, key=lambda m: m.at)),
        events=tuple(sim.events),
        checks=tuple(sim.checks),
        samples=tuple(_samples(sim, end)),
        queries=tuple({"at": c.at, "query": c.query, "value": c.value} for c in sim.checks[:4]),
        load=tuple(load),
    )


def _verdict(kind: str, setup: Setup, sim: _Sim, hurt_users: int) -> Verdict:
    if kind == "inconclusive":
        return Verdict(
            Decision.INCONCLUSIVE,
            (Measure("abort_within", None, setup.abort_limit, "s", None),),
            reasons=("the fault never reached traffic: 0 bad canary requests",),
            warnings=("5 check windows had fewer than 10 canary requests (no sample, no signal)",),
        )
    abort = sim.rollback_at - (TRIGGER + (setup.fault_at or 0.0)) if sim.rollback_at else None
    predicted = "5m10s–6m10s" if kind == "rolled-back-go" else None
    measures = (
        Measure(
            "abort_within",
            abort,
            setup.abort_limit,
            "s",
            abort is not None and abort <= setup.abort_limit,
            predicted,
        ),
        Measure("max_canary_weight", sim.peak, setup.weight_limit, "%", sim.peak <= setup.weight_limit),
        Measure("max_users_hurt", hurt_users, setup.users_limit, "users", hurt_users <= setup.users_limit),
    )
    failed = [m for m in measures if m.passed is False]
    reasons = tuple(f"{m.name}: measured {m.measured} > limit {m.limit}" for m in failed)
    return Verdict(Decision.NO_GO if failed else Decision.GO, measures, reasons)


def hostile(record: RunRecord) -> RunRecord:
    """The record with script tags and secrets planted in event messages, diagnostics and the scenario."""
    evil = CanaryEvent(
        record.events[0].at,
        "Warning",
        "<script>alert(1)</script> Authorization: Bearer abcdef123456",
        Phase.PROGRESSING,
    )
    return replace(
        record,
        events=(evil, *record.events),
        description='<img src=x onerror="alert(2)"> run',
        scenario={**record.scenario, "env": {"ADMIN_TOKEN": "hunter2-admin-token"}},
        diagnostics={"flagger log": "token: sk-live-0123456789 </pre><script>alert(3)</script>"},
    )


def write_interrupted(journal_path: Path) -> Path:
    """Replay the first half of the NO-GO run through a JournalWriter, then 'crash' mid-line."""
    full = build("no-go")
    header = replace(
        full, complete=False, verdict=None, marks=(), events=(), checks=(), samples=(), load=(), queries=()
    )
    writer = JournalWriter(journal_path)
    writer.begin(header)
    writer.stage("observe", TRIGGER)
    cut = TRIGGER + 300.0
    writer.observed(
        ObservedBatch(
            samples=[s for s in full.samples if s.at < cut],
            events=[e for e in full.events if e.at < cut],
            checks=[c for c in full.checks if c.at < cut],
            load=[b for b in full.load if b.start < cut],
            marks=[m for m in full.marks if m.at < cut],
        )
    )
    writer.warning(cut, "SIGTERM received: stopping")
    writer.close()
    with writer.partial_path.open("a", encoding="utf-8") as handle:
        handle.write('{"kind": "samples", "data": {"at": 33')  # the torn last line of a killed process
    return writer.partial_path


GOLDEN = Path(__file__).resolve().parents[1] / "data" / "journals" / "rolled-back-go.json"


def save_golden() -> Path:
    """(Re)write tests/data/journals/rolled-back-go.json from ``build("rolled-back-go")``."""
    from harness.report.journal import write_journal

    return write_journal(build("rolled-back-go"), GOLDEN)


if __name__ == "__main__":
    print(save_golden())

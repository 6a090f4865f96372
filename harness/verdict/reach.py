"""Did the configured fault reach canary traffic? (pure)

A verdict may only be GO if the fault demonstrably hit the canary's users: the canary workload (not the
canary version: after promotion the primary runs it too, ``harness.verdict.attribution``) served requests
while the fault was on, and the observed bad rate or latency is of the order the fault configures.
Readiness faults (crash on start-up, never ready) reach "traffic" when Flagger saw the canary not ready.
"""

from __future__ import annotations

import statistics

from harness.model import NO_VERSION, LoadBucket
from harness.verdict.attribution import attribution_note, canary_load
from harness.verdict.evidence import Evidence
from harness.verdict.fault_effect import FaultExpectation
from harness.verdict.measure import Terminal, baseline_window, first_mark, tally, within

REACH_RATIO = 0.25  # observed canary bad rate must be ≥ this × the configured one
LATENCY_RATIO = 0.5  # observed canary p99 must exceed baseline p99 by ≥ this × the added latency


def fault_window(ev: Evidence, trigger: float | None, end: Terminal | None) -> tuple[float, float] | None:
    """[onset, end) of the fault: onset from the revision (trigger) or the first ``fault_on`` mark."""
    fault = ev.fault_configured
    if fault is None or trigger is None:
        return None
    if fault.from_start:
        onset = trigger
    else:
        mark = first_mark(ev.marks, "fault_on")
        if mark is None:
            return None
        onset = mark.at
    stops = [m.at for m in ev.marks if m.kind == "fault_off" and m.at >= onset]
    if end is not None and end.at >= onset:
        stops.append(end.at)
    last = max([b.start + b.duration for b in ev.load] + [s.at for s in ev.samples] + [onset])
    return (onset, min([*stops, last]) if stops else last)


def fault_reached(ev: Evidence, trigger: float | None, end: Terminal | None) -> tuple[bool | None, str]:
    """(reached?, explanation). ``None`` when no fault is configured or the trigger is unknown."""
    fault = ev.fault_configured
    if fault is None:
        return None, "no fault configured"
    if trigger is None:
        return None, "trigger unknown"
    window = fault_window(ev, trigger, end)
    if window is None:
        return False, "the fault was never switched on (no fault_on mark)"
    lo, hi = window
    served = canary_load(
        ev.load, ev.samples, ev.canary_version, trigger=trigger, fault_in_revision=fault.from_start
    )
    canary = within(served, lo, hi) + _unattributed(ev, trigger, lo, hi)
    counted = tally(canary)
    if fault.blocks_readiness:
        not_ready = [e for e in ev.events if e.at >= lo and _canary_not_ready(e.message)]
        if not_ready or counted.bad:
            return (
                True,
                f"Flagger saw the canary not ready {len(not_ready)} times; {counted.bad} bad canary requests",
            )
        return False, "no 'not ready' event and no bad canary request while the fault was on"
    if counted.requests == 0:
        return False, f"the canary served 0 requests while the fault was on ({lo:g}–{hi:g} s)"
    if not fault.observable:
        return (
            True,
            f"the canary served {counted.requests} requests with the fault on (no visible effect expected)",
        )
    notes: list[str] = []
    reached = False
    if fault.error_fraction > 0:
        rate = counted.rate or 0.0
        expected = expected_error_fraction(fault, canary)
        reached = rate >= REACH_RATIO * expected
        notes.append(
            f"canary bad rate {rate:.3f} vs configured {expected:.3f}"
            f"{' (slow-burn ramp where the canary served)' if fault.error_ramps else ''}"
            f" over {counted.requests} requests ({attribution_note(ev.load)})"
        )
    if fault.added_latency_ms > 0:
        ok, note = _latency_reached(ev, canary, trigger, fault.added_latency_ms)
        reached = reached or ok
        notes.append(note)
    return reached, "; ".join(notes)


def expected_error_fraction(fault: FaultExpectation, canary: list[LoadBucket]) -> float:
    """The bad share the configured faults give the requests the canary served.

    A slow burn's ramp runs on the canary pod's own clock, which starts at or before the first request it
    served: each bucket expects the ramp's value that long after that first request (never more than the
    pod saw), so a rollout aborted early in the ramp is not held to the ramp's mean over its whole length.
    """
    if not fault.error_ramps:
        return fault.error_fraction
    served = [b for b in canary if b.requests]
    if not served:
        return fault.error_fraction
    steady = fault.error_fraction - sum(r.mean for r in fault.error_ramps)
    first = min(b.start for b in served)
    weighted = sum(
        b.requests * sum(r.rate_after(b.start + b.duration / 2 - first) for r in fault.error_ramps)
        for b in served
    )
    return min(1.0, max(0.0, steady + weighted / sum(b.requests for b in served)))


def _latency_reached(
    ev: Evidence, canary: list[LoadBucket], trigger: float, added_ms: float
) -> tuple[bool, str]:
    lo, hi = baseline_window(ev.marks, trigger)
    base = [b.latency_p99_ms for b in ev.load if b.requests and lo <= b.start + b.duration / 2 < hi]
    baseline = statistics.median(base) if base else 0.0
    worst = max((b.latency_p99_ms for b in canary if b.requests), default=0.0)
    ok = worst >= baseline + LATENCY_RATIO * added_ms
    return ok, f"canary p99 up to {worst:.0f} ms vs baseline {baseline:.0f} ms + configured {added_ms:.0f} ms"


def _unattributed(ev: Evidence, trigger: float, lo: float, hi: float) -> list[LoadBucket]:
    """Failures with no X-App-Version (client timeouts, router 502/504) while the fault was on, counted
    for the canary only when the baseline had none: a hung canary answers nothing, so no header."""
    base_lo, base_hi = baseline_window(ev.marks, trigger)
    if any(b.bad for b in within(ev.load, base_lo, base_hi, NO_VERSION)):
        return []
    return [b for b in within(ev.load, lo, hi, NO_VERSION) if b.bad and not b.workload]


def _canary_not_ready(message: str) -> bool:
    """Flagger's "canary deployment <target>.<ns> not ready: …" (not the primary's "<target>-primary…")."""
    return "not ready" in message and "-primary." not in message.split("not ready")[0]

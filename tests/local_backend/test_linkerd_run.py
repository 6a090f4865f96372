"""A whole local run on the Linkerd provider: faulty_app, the mesh stand-in, Locust, Flagger's emulation.

Everything binds 127.0.0.1; the run is bounded by the scenario's ``max_duration`` (10m emulated, 10 s real).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.model import Decision
from harness.report.journal import RunRecord, read_journal
from harness.run.execute import run_scenarios
from harness.run.options import RunOptions
from harness.scenario.loader import load_scenario
from harness.scenario.model import Scenario

SCENARIO = Path(__file__).parent / "data" / "linkerd-short-5xx.yaml"


def run_to_a_go(scenario: Scenario, tmp_path: Path) -> RunRecord:
    """Run one scenario on the local backend (embedded evaluator, 60×); it must end complete and GO."""
    batch = run_scenarios(
        [scenario], RunOptions(report_dir=tmp_path, progress=False, prometheus="embedded", time_scale=60.0)
    )
    (record,) = batch.records
    assert record.complete, record.incomplete_reason
    assert record.decision == Decision.GO, [m for m in record.verdict.measures if m.passed is False]
    return read_journal(next(tmp_path.glob("*/runs/*/journal.json")))


@pytest.mark.e2e
@pytest.mark.slow
def test_a_5xx_canary_on_linkerd_is_rolled_back(tmp_path: Path) -> None:
    """The tutorial's success-rate template over response_total fails every tick: rolled back at 10 %."""
    scenario = load_scenario(SCENARIO)
    assert scenario.canary.provider == "gatewayapi:v1beta1"
    journal = run_to_a_go(scenario, tmp_path)
    queries = {check.query for check in journal.checks}
    assert any("response_total" in q and 'deployment=~"faulty-app"' in q for q in queries)
    failed = [c for c in journal.checks if c.metric == "success-rate" and not c.passed]
    assert len(failed) >= 2
    # Only failure series for the canary: the numerator's selector matches nothing, so the ratio is an
    # empty vector, "no values found" (as on a cluster), which Flagger counts as a failed check.
    assert all("no values" in (c.error or "") for c in failed)
    assert not any("response_latency_ms_bucket" in q for q in queries)  # a failure ends the tick
    assert any("failed checks threshold reached 2" in e.message for e in journal.events)
    served = {bucket.workload for bucket in journal.load if bucket.requests}
    assert served == {"primary", "canary"}  # the stand-in names the workload on every answer
    assert max(s.status.canary_weight for s in journal.samples) == 10


AB_SCENARIO = Path(__file__).parent / "data" / "linkerd-short-ab-5xx.yaml"


@pytest.mark.e2e
@pytest.mark.slow
def test_an_ab_iteration_on_linkerd_exposes_only_the_cohort(tmp_path: Path) -> None:
    """runAB on the local Linkerd provider: while the route is 0/100 only the X-Cohort: beta users (30 %)
    reach the canary — on Traefik it would be everyone (§2.11) — and the failing canary is rolled back."""
    scenario = load_scenario(AB_SCENARIO)
    journal = run_to_a_go(scenario, tmp_path)
    assert any("canary iteration 1/5" in e.message for e in journal.events)
    ab = [s.at for s in journal.samples if s.router_weights == (0, 100)]
    rollback = next(m.at for m in journal.marks if m.kind == "rollback")
    assert ab, "the A/B route was never written"
    during = [b for b in journal.load if ab[0] <= b.start and b.start + b.duration <= rollback]
    canary = sum(b.requests for b in during if b.workload == "canary")
    total = sum(b.requests for b in during)
    assert total > 0
    assert 0.15 <= canary / total <= 0.45, (canary, total)  # 6 of 20 users at equal pace: 0.3

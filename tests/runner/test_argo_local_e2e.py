"""End to end on the local backend: the shipped Argo 5xx scenario aborts and its control promotes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.backends.local.metrics import prometheus_available
from harness.model import Decision
from harness.report.journal import read_journal

ROOT = Path(__file__).parents[2]
CLI = str(Path(sys.executable).with_name("canary-chaos"))


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.skipif(not prometheus_available(), reason="the Argo templates need a real Prometheus server")
def test_argo_5xx_aborts_at_the_first_step_and_the_control_promotes(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            CLI,
            "run",
            str(ROOT / "scenarios" / "argo-5xx-first-step.yaml"),
            str(ROOT / "scenarios" / "argo-healthy-control.yaml"),
            "--report-dir",
            str(tmp_path),
            "--no-progress",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    journals = {p.parent.name: read_journal(p) for p in tmp_path.glob("*/runs/*/journal.json")}
    assert set(journals) == {"argo-5xx-first-step-1", "argo-healthy-control-1"}, done.stderr[-2000:]
    fault, control = journals["argo-5xx-first-step-1"], journals["argo-healthy-control-1"]
    assert (fault.controller, control.controller) == ("argo-rollouts", "argo-rollouts")
    assert (fault.decision, control.decision) == (Decision.GO, Decision.GO), done.stdout[-2000:]
    assert any(e.reason == "RolloutAborted" for e in fault.events)
    assert max(s.status.canary_weight for s in fault.samples) == 10
    assert any(e.reason == "RolloutCompleted" for e in control.events)
    assert done.returncode == 0

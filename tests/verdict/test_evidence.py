"""Evidence built from shipped scenarios: versions, interval, deadline and the expected fault effect."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.model import Decision
from harness.scenario.loader import load_catalog, load_scenario
from harness.verdict.fault_effect import expected_effect
from harness.verdict.judge import evaluate, evidence_for

from .timeline import rolled_back_story

CATALOG = Path(__file__).resolve().parents[2] / "scenarios"


class TestExpectedEffectOfCatalog:
    @pytest.mark.parametrize(
        ("name", "error", "from_start", "blocks"),
        [
            ("http-5xx-spike", 1.0, True, False),
            ("cohort-only", 0.3, True, False),
            ("fault-at-high-weight", 1.0, False, False),
            ("crash-loop", 0.0, True, True),
            ("never-ready", 0.0, True, True),
            ("hang", 0.25, True, False),
        ],
    )
    def test_effect(self, name: str, error: float, from_start: bool, blocks: bool) -> None:
        """Shipped faults summarise to the share of canary requests they should hurt."""
        effect = expected_effect(load_scenario(CATALOG / f"{name}.yaml"))
        assert effect is not None
        assert effect.error_fraction == pytest.approx(error)
        assert (effect.from_start, effect.blocks_readiness) == (from_start, blocks)

    def test_controls_have_no_fault_and_every_fault_is_summarised(self) -> None:
        """Controls, low-traffic and guardrail-design examples (a declared NO-GO: the flaw is the Canary's,
        e.g. linkerd-cohort-leak) have no fault; every other scenario has a visible or declared effect."""
        for scenario in load_catalog(CATALOG):
            effect = expected_effect(scenario)
            design_example = scenario.expect.verdict.decision == "NO-GO"
            if scenario.id.endswith("-control") or scenario.id == "low-traffic" or design_example:
                assert effect is None, scenario.id
            else:
                assert effect is not None, scenario.id
                assert effect.observable == (scenario.id != "memory-leak"), scenario.id


class TestEvidenceFor:
    def test_the_success_rate_minimum_comes_from_either_controller_s_spec(self) -> None:
        """Flagger: the success-rate check's thresholdRange.min; Argo Rollouts: the success-rate metric's
        ``result[0] >= 0.99`` (a ratio) in percent, from the plug-in's SpecTiming."""
        flagger = evidence_for(load_scenario(CATALOG / "http-5xx-spike.yaml"))
        argo = evidence_for(load_scenario(CATALOG / "argo-5xx-first-step.yaml"))
        assert (flagger.min_success_rate, argo.min_success_rate) == (99.0, 99.0)

    def test_fills_in_scenario_facts(self) -> None:
        """evidence_for takes versions, interval, deadline and fault from the scenario; GO on the story."""
        scenario = load_scenario(CATALOG / "http-5xx-spike.yaml")
        story = rolled_back_story()
        evidence = evidence_for(
            scenario,
            samples=tuple(story.samples),
            events=tuple(story.events),
            load=tuple(story.load),
            marks=tuple(story.marks),
        )
        assert (evidence.stable_version, evidence.canary_version) == ("1.0.0", "1.1.0")
        assert (evidence.interval_seconds, evidence.progress_deadline_seconds) == (60.0, 600.0)
        verdict = evaluate(scenario.expect, scenario.policy, evidence)
        assert verdict.decision == Decision.GO, verdict.reasons

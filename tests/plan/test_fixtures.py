"""Every example Canary plans without error; JSON round-trips; the terminal rendering shows the findings."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pytest
from rich.console import Console

from harness.errors import InputError
from harness.plan.planner import plan, plan_to_json
from harness.plan.render import render_plan
from harness.scenario.flagger_canary import load_canary
from harness.scenario.metric_templates import load_metric_templates

from ..flagger.rig import canary

ROOT = Path(__file__).parents[2]
FIXTURES = sorted([*ROOT.glob("tests/data/canaries/*.yaml"), *ROOT.glob("scenarios/canaries/*.yaml")])
EXPECTED_TRAPS = {
    "ab-testing.yaml": "ab-testing-on-traefik",
    "blue-green.yaml": "blue-green-on-traefik",
    "full-options.yaml": "service-name-mismatch",
    "template-metrics.yaml": "error-only-query",  # the 404 template has no 'or vector(0)'
}


def plan_file(path: Path, **kwargs):
    kwargs.setdefault("rps", 50)
    return plan(load_canary(path), templates=load_metric_templates(path), **kwargs)


class TestFixtures:
    def test_fixture_list_is_not_empty(self):
        """Both fixture directories are found."""
        assert len(FIXTURES) >= 9

    @pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
    def test_plans_without_error(self, path):
        """Each fixture gives a plan with a verdict, a healthy prediction and JSON that round-trips."""
        predicted = plan_file(path)
        assert predicted.verdict in ("GO", "NO-GO")
        assert predicted.healthy.outcome in ("promoted", "rolled-back", "undecided")
        data = plan_to_json(predicted)
        assert json.loads(json.dumps(data, allow_nan=False)) == data
        if path.name in EXPECTED_TRAPS:
            assert EXPECTED_TRAPS[path.name] in {t.code for t in predicted.traps}

    @pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
    def test_renders(self, path):
        """The rich rendering names the canary, every trap code and every limit."""
        predicted = plan_file(path)
        out = io.StringIO()
        render_plan(predicted, Console(file=out, width=200, color_system=None))
        text = out.getvalue()
        assert predicted.canary in text
        assert predicted.verdict in text
        for name in [t.code for t in predicted.traps] + [c.name for c in predicted.limits]:
            assert name in text

    def test_e2e_canary_timing(self):
        """Flagger's Traefik e2e Canary (15s, threshold 15, 10→60): healthy (6 + 3)·15 s after detection."""
        predicted = plan_file(ROOT / "tests/data/canaries/e2e-traefik.yaml")
        assert predicted.healthy.decided_at == 135.0
        assert predicted.from_start.rollback_at == (15 + 2) * 15.0


class TestJson:
    def test_infinite_values_become_null(self):
        """An undetectable fault has δ = inf, written as null; no NaN/Infinity in the JSON."""
        predicted = plan(canary(), rps=100, fault_error_rate=0.005)
        assert math.isinf(predicted.assumptions.check_delay)
        data = plan_to_json(predicted)
        assert data["assumptions"]["check_delay"] is None
        json.dumps(data, allow_nan=False)

    def test_shape(self):
        """Top-level keys a CLI or report can rely on."""
        data = plan_to_json(plan(canary(), rps=100))
        assert {
            "canary",
            "verdict",
            "reasons",
            "healthy",
            "from_start",
            "at_weights",
            "random",
            "crash_loop",
        } <= set(data)
        assert data["healthy"]["promote_tick"] == 6
        assert [c["at_weight"] for c in data["at_weights"]] == [10, 20, 30, 40, 50]


class TestInputs:
    def test_default_check_delay_is_two_scrapes_plus_dilution(self):
        """δ = 2 × 5 s + 60 s × (1 − 0.99) / e: 10.6 s at e = 1, 22 s at e = 0.05."""
        assert plan(canary(), rps=100).assumptions.check_delay == pytest.approx(10.6)
        assert plan(canary(), rps=100, fault_error_rate=0.05).assumptions.check_delay == pytest.approx(22.0)
        assert plan(canary(), rps=100, scrape_interval=15).assumptions.check_delay == pytest.approx(30.6)

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"rps": -1},
            {"rps": math.nan},
            {"fault_error_rate": 0},
            {"fault_error_rate": 1.5},
            {"readiness_ticks": -1},
        ],
    )
    def test_bad_assumptions_are_input_errors(self, kwargs):
        """Out-of-range assumptions raise InputError (exit 2)."""
        kwargs = {"rps": 10} | kwargs
        with pytest.raises(InputError):
            plan(canary(), **kwargs)

    def test_zero_rps_means_no_values_found(self):
        """Without traffic builtin metrics find no values: a healthy canary is rolled back at T + 2."""
        predicted = plan(canary(), rps=0)
        assert (predicted.healthy.outcome, predicted.healthy.decided_tick) == ("rolled-back", 7)

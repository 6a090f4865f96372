"""Canary loading refuses what Flagger cannot decode and what would exhaust us: int32, size, aliases."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import CanarySpecError
from harness.scenario.flagger_canary import load_canary, parse_canary

from .test_spec_loader import VALID

BASE = VALID.format(interval="1m", threshold=5)


def refused(text: str) -> CanarySpecError:
    with pytest.raises(CanarySpecError) as info:
        parse_canary(text, "c.yaml")
    return info.value


class TestInt32:
    @pytest.mark.parametrize(
        ("edit", "path"),
        [
            (("threshold: 5", "threshold: 2147483648"), "spec.analysis.threshold"),
            (("stepWeight: 10", "stepWeight: -2147483649"), "spec.analysis.stepWeight"),
            (("port: 80", "port: 4294967376"), "spec.service.port"),
            (("port: 80", "port: 80\n    targetPort: 99999999999"), "spec.service.targetPort"),
            (("stepWeight: 10", "stepWeights: [10, 3000000000]"), "spec.analysis.stepWeights[1]"),
            (("threshold: 5", "threshold: " + "9" * 5000), "spec.analysis.threshold"),
        ],
    )
    def test_out_of_range_integers_are_located(self, edit: tuple[str, str], path: str) -> None:
        """Beyond int32 (or beyond Python's int-parsing limit) is a problem at the field, with its line."""
        error = refused(BASE.replace(*edit))
        assert [p.path for p in error.problems] == [path]
        assert error.problems[0].line is not None
        assert "c.yaml:" in str(error)

    def test_int32_bounds_and_integral_floats_are_accepted(self) -> None:
        text = BASE.replace("threshold: 5", "threshold: 2147483647").replace("port: 80", "port: 80.0")
        spec = parse_canary(text.replace("spec:\n", "spec:\n  progressDeadlineSeconds: -2147483648\n"))
        assert (spec.analysis.threshold, spec.service_port) == (2147483647, 80)
        assert spec.progress_deadline_seconds == -(2**31)


class TestReading:
    def test_oversized_file_is_refused_without_reading_it_all(self, tmp_path: Path) -> None:
        path = tmp_path / "big.yaml"
        path.write_text(BASE + "#" + "x" * (2 * 1024 * 1024))
        with pytest.raises(CanarySpecError, match="at most 1048576 bytes"):
            load_canary(path)

    def test_yaml_problems_without_a_source_have_no_file(self) -> None:
        with pytest.raises(CanarySpecError) as info:
            parse_canary(BASE + "kind: Canary\n")
        assert [(p.file, p.found) for p in info.value.problems] == [
            (None, "a duplicate key 'kind' (first on line 2)")
        ]

    def test_alias_bomb_is_refused_quickly(self) -> None:
        bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        )
        assert "alias" in str(refused(BASE + bomb))


METRIC = """\
    metrics:
      - name: request-success-rate
        interval: 1m
        thresholdRange: {min: 99}
"""


class TestNumbersFlaggerCanDecode:
    @pytest.mark.parametrize(
        ("edit", "path"),
        [
            (("{min: 99}", "{min: .inf}"), "spec.analysis.metrics[0].thresholdRange.min"),
            (("{min: 99}", "{min: .nan}"), "spec.analysis.metrics[0].thresholdRange.min"),
            (("{min: 99}", "{max: 1e400}"), "spec.analysis.metrics[0].thresholdRange.max"),
            (("{min: 99}", "{max: " + "9" * 400 + "}"), "spec.analysis.metrics[0].thresholdRange.max"),
        ],
    )
    def test_non_finite_thresholds_are_located(self, edit: tuple[str, str], path: str) -> None:
        """JSON has no inf/NaN: such a threshold (or one beyond float range) is a located problem."""
        error = refused((BASE + METRIC).replace(*edit))
        assert [(p.path, p.expected) for p in error.problems] == [(path, "a finite number")]

    @pytest.mark.parametrize(
        ("edit", "path"),
        [
            (("port: 80", "port: 0"), "spec.service.port"),
            (("port: 80", "port: 65536"), "spec.service.port"),
            (("port: 80", "port: 80\n    targetPort: 70000"), "spec.service.targetPort"),
        ],
    )
    def test_ports_outside_1_to_65535_are_located(self, edit: tuple[str, str], path: str) -> None:
        """The Service Flagger generates would be refused by the API server: refuse it here, located."""
        error = refused(BASE.replace(*edit))
        assert [p.path for p in error.problems] == [path]
        assert "1..65535" in error.problems[0].expected

    def test_port_bounds_and_named_target_ports_are_accepted(self) -> None:
        spec = parse_canary(BASE.replace("port: 80", "port: 65535\n    targetPort: http"))
        assert (spec.service_port, spec.service_target_port) == (65535, "http")

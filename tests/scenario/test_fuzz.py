"""Property tests: the scenario loader returns a Scenario or raises ScenarioError naming the file."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.errors import ScenarioError
from harness.scenario.loader import load_scenario
from harness.scenario.model import Scenario

from .conftest import CATALOG

SEEDS = [
    yaml.safe_load((CATALOG / name).read_text())
    for name in (
        "http-5xx-spike.yaml",
        "fault-at-high-weight.yaml",
        "cohort-only.yaml",
        "crash-loop.yaml",
        "negative/too-lax.yaml",
    )
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["5m", "1m30s", "-1s", "rolled-back", "promoted", "http_errors", "/x"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    if draw(st.booleans()):  # also stress the Canary parser through inline overrides
        data["analysis"] = {
            "threshold": 5,
            "stepWeights": [5, 10],
            "metrics": [{"name": "request-success-rate"}],
        }
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(_paths(data)))
        if not path:
            continue
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=10))] = draw(values)
    return data


def _check(path: Path) -> None:
    try:
        result: Scenario | ScenarioError = load_scenario(path)
    except ScenarioError as exc:
        result = exc
    if isinstance(result, ScenarioError):
        assert path.name in str(result)
        assert all(p.file for p in result.problems)
    else:
        assert isinstance(result, Scenario)


class TestLoaderNeverLeaks:
    @settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(mutated())
    def test_mutated_scenarios(self, scratch: Path, data: Any) -> None:
        """Random edits of shipped scenarios load or raise ScenarioError with the file name, nothing else."""
        path = scratch / "mutant.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True))
        _check(path)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.text(max_size=200))
    def test_arbitrary_text(self, scratch: Path, text: str) -> None:
        """Arbitrary file content never produces anything but a Scenario or ScenarioError."""
        path = scratch / "noise.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        _check(path)


class TestNullOverride:
    def test_a_null_threshold_override_is_located_in_the_scenario(self, tmp_path: Path) -> None:
        """`analysis: {threshold: null}` is the scenario's mistake: the error names its file and field."""
        scenario = tmp_path / "null.yaml"
        text = (CATALOG / "http-5xx-spike.yaml").read_text()
        scenario.write_text(text + "analysis: {threshold: null}\n")
        (tmp_path / "canaries").mkdir()
        shutil.copy(CATALOG / "canaries" / "faulty-app.yaml", tmp_path / "canaries")
        with pytest.raises(ScenarioError) as caught:
            load_scenario(scenario)
        assert "null.yaml" in str(caught.value)
        assert "analysis.threshold" in str(caught.value)

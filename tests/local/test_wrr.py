"""Traefik's EDF weighted round robin (spec §4.4)."""

from __future__ import annotations

import itertools

import pytest

from harness.providers.traefik.wrr import NoChildren, WeightedRoundRobin


def picks(weights: dict[str, int], n: int) -> list[str]:
    wrr = WeightedRoundRobin(weights.items())
    return [wrr.next() for _ in range(n)]


class TestWeightedRoundRobin:
    @pytest.mark.parametrize(("primary", "canary", "cycle"), [(90, 10, 10), (95, 5, 20), (80, 20, 5)])
    def test_exactly_one_canary_per_cycle(self, primary: int, canary: int, cycle: int) -> None:
        """Every aligned block of one cycle (10 at 90/10, 20 at 95/5) holds exactly one canary pick."""
        sequence = picks({"primary": primary, "canary": canary}, cycle * 500)
        blocks = [sequence[i : i + cycle].count("canary") for i in range(0, len(sequence), cycle)]
        assert set(blocks) == {1}

    def test_ninety_ten_sequence_is_deterministic(self) -> None:
        """The 90/10 sequence is the same every time and starts with the canary at the 9th pick."""
        first = picks({"primary": 90, "canary": 10}, 30)
        assert first == picks({"primary": 90, "canary": 10}, 30)
        assert [i for i, name in enumerate(first) if name == "canary"] == [8, 19, 29]

    def test_fifty_fifty_alternates(self) -> None:
        """Equal weights alternate strictly."""
        sequence = picks({"primary": 50, "canary": 50}, 100)
        assert all(a != b for a, b in itertools.pairwise(sequence))

    def test_zero_weight_child_is_absent(self) -> None:
        """A weight-0 (or negative) child is dropped and never picked."""
        wrr = WeightedRoundRobin([("primary", 100), ("canary", 0), ("other", -5)])
        assert wrr.names == ("primary",)
        assert {wrr.next() for _ in range(50)} == {"primary"}

    def test_no_children_raises(self) -> None:
        """With no positive weight the pool is empty, as Traefik's 'no servers in the pool'."""
        with pytest.raises(NoChildren):
            WeightedRoundRobin([("primary", 0)]).next()

    def test_added_child_starts_at_current_deadline(self) -> None:
        """A child added mid-stream starts at current deadline + 1/weight instead of catching up."""
        wrr = WeightedRoundRobin([("a", 1)])
        for _ in range(100):
            wrr.next()
        wrr.add("b", 1)
        sequence = [wrr.next() for _ in range(10)]
        assert sequence.count("b") == 5

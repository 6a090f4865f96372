"""Cohort assignment of synthetic users and what their requests select on an HTTPRoute (pure)."""

from __future__ import annotations

import math

import pytest

from harness.controllers.flagger.gateway_api import flagger_httproute
from harness.scenario.cohorts import (
    OUTSIDE,
    cohort_name,
    cohort_of_user,
    cohort_reaches_canary,
    cohort_sizes,
    parse_user_id,
    request_headers,
    user_id,
)
from harness.scenario.flagger_canary import parse_canary
from harness.scenario.model import Cohort
from tests.cohort_fixtures import ALWAYS, INSIDER, TWO_COOKIES, ab_document

AB = ab_document()


def locust_rule(text: str, fraction: float, workers: int) -> bool:
    """The rule as tests/loadgen/test_loadgen_locust.py states it for the locustfile (first cohort)."""
    index, number = parse_user_id(text)
    return ((number * workers + index) * (math.sqrt(5) - 1) / 2) % 1.0 < fraction


class TestAssignment:
    def test_a_seed_moves_users_between_cohorts_deterministically(self) -> None:
        """Seed 0 is the unseeded rule; another seed assigns other users, the same each time."""
        ids = [user_id(n) for n in range(40)]
        unseeded = [cohort_name(i, (INSIDER,)) for i in ids]
        assert unseeded == [cohort_name(i, (INSIDER,), seed=0) for i in ids]
        seeded = [cohort_name(i, (INSIDER,), seed=11) for i in ids]
        assert seeded == [cohort_name(i, (INSIDER,), seed=11) for i in ids]
        assert seeded != unseeded
        assert sum(c == "insider" for c in seeded) == cohort_sizes((INSIDER,), 40, seed=11)[0].users

    def test_ids_round_trip(self) -> None:
        """u0007 and w2u0007 are what the Locust child writes."""
        assert (user_id(7), user_id(7, index=2, worker=True)) == ("u0007", "w2u0007")
        assert parse_user_id("u0007") == (0, 7)
        assert parse_user_id("w2u0007") == (2, 7)

    def test_bad_id_is_an_error(self) -> None:
        """Anything else is rejected with the id in the message."""
        with pytest.raises(ValueError, match="'bob'"):
            parse_user_id("bob")

    @pytest.mark.parametrize("workers", [0, 1, 3])
    def test_same_rule_as_the_locust_child(self, workers: int) -> None:
        """For 300 ids, membership of the first cohort is the locustfile formula."""
        ids = [user_id(n, index=i, worker=workers > 0) for n in range(100) for i in range(max(1, workers))]
        for text in ids:
            expected = locust_rule(text, INSIDER.fraction, max(1, workers))
            assert (cohort_of_user(text, (INSIDER,), workers) == INSIDER) is expected, text

    def test_a_user_keeps_its_cohort(self) -> None:
        """The cohort is a function of the id alone."""
        cohorts = (INSIDER, ALWAYS)
        first = [cohort_name(user_id(n), cohorts) for n in range(50)]
        assert first == [cohort_name(user_id(n), cohorts) for n in range(50)]
        assert set(first) == {"insider", "always", OUTSIDE}

    def test_sizes_are_discrete(self) -> None:
        """20 users: 10 % gets 3 users (positions 0, .090, .034), 5 % gets 1 (.125), 1 % none."""
        sizes = cohort_sizes((INSIDER, ALWAYS, Cohort("tiny", 0.01, header=(("x", "1"),))), 20)
        assert [(s.name, s.users) for s in sizes] == [
            ("insider", 3),
            ("always", 1),
            ("tiny", 0),
            (OUTSIDE, 16),
        ]
        assert sizes[0].share == pytest.approx(0.15)


class TestRequests:
    def test_headers_then_joined_cookies_then_host(self) -> None:
        """A cohort sends its headers, one Cookie header joined by '; ', and the Host header."""
        both = Cohort(
            "both", 0.1, header=(("x-canary", "insider"),), cookie=(("a", "1"), ("canary", "always"))
        )
        assert request_headers(both, "shop.example") == (
            ("x-canary", "insider"),
            ("Cookie", "a=1; canary=always"),
            ("Host", "shop.example"),
        )
        assert request_headers(None) == ()

    def test_which_cohorts_the_ab_route_captures(self) -> None:
        """Header and single-cookie cohorts reach the canary; a cookie after another does not (docs regex)."""
        route = flagger_httproute(parse_canary(AB, "ab.yaml"), 0, 100)
        assert cohort_reaches_canary(INSIDER, route, "podinfo-canary")
        assert cohort_reaches_canary(ALWAYS, route, "podinfo-canary")
        assert not cohort_reaches_canary(TWO_COOKIES, route, "podinfo-canary")
        assert not cohort_reaches_canary(None, route, "podinfo-canary")

    def test_after_rollback_no_cohort_reaches_the_canary(self) -> None:
        """Weights 100/0: the cohort rule selects the primary only."""
        route = flagger_httproute(parse_canary(AB, "ab.yaml"), 100, 0)
        assert not cohort_reaches_canary(INSIDER, route, "podinfo-canary")

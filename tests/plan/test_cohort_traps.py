"""Planner traps of A/B experiments: exposure by provider, cohort sample size, iterations vs deadline."""

from __future__ import annotations

import pytest

from harness.plan.cohort_traps import (
    canary_traffic_share,
    captured_cohorts,
    cohort_sample_traps,
    cohort_traps,
    deadline_traps,
    hostname_traps,
    match_traps,
)
from harness.plan.planner import plan
from harness.scenario.flagger_canary import parse_canary
from harness.scenario.model import Cohort, LoadProfile
from harness.scenario.policy import Policy
from tests.cohort_fixtures import INSIDER, ab_canary, ab_document

spec = ab_canary  # (provider, match, **analysis) on the shared A/B Canary


def codes(traps) -> list[str]:
    return [t.code for t in traps]


class TestMatchTraps:
    def test_traefik_ignores_the_match(self) -> None:
        """On Traefik a match means 100 % exposure."""
        (trap,) = match_traps(spec("traefik"))
        assert (trap.code, trap.severity) == ("ab-testing-on-traefik", "error")
        assert "100 %" in trap.message

    def test_a_bounded_gateway_api_match_is_no_trap(self) -> None:
        """An exact header match on Gateway API bounds the cohort."""
        assert match_traps(spec()) == ()

    def test_prefix_header_on_gateway_api_exposes_everyone(self) -> None:
        """A prefix value makes Flagger drop the list silently: error."""
        (trap,) = match_traps(spec(match=[{"headers": {"user-agent": {"prefix": "Mozilla"}}}]))
        assert (trap.code, trap.severity) == ("ab-match-exposes-everyone", "error")

    def test_uri_next_to_headers_widens(self) -> None:
        """A dropped uri is a warning: the cohort spans every path."""
        match = [{"uri": {"prefix": "/beta"}, "headers": {"x-canary": {"exact": "insider"}}}]
        assert codes(match_traps(spec(match=match))) == ["ab-match-widened"]


class TestCohortSampleTraps:
    def test_enough_samples(self) -> None:
        """3 of 20 users at 10 req/s: 90 requests per 1 m window ≥ 50."""
        load = LoadProfile(users=20, rps=10, cohorts=(INSIDER,))
        assert cohort_sample_traps(spec(), load, Policy()) == ()

    def test_too_few_samples_names_the_load_needed(self) -> None:
        """At 5 req/s the cohort sends 45 per window: raise to ≥ 6 req/s."""
        load = LoadProfile(users=20, rps=5, cohorts=(INSIDER,))
        (trap,) = cohort_sample_traps(spec(), load, Policy())
        assert trap.code == "cohort-too-small"
        assert "45 requests" in trap.message
        assert "≥ 6 req/s" in trap.remedy

    def test_a_cohort_without_users(self) -> None:
        """1 % of 20 users is nobody."""
        tiny = Cohort("tiny", 0.01, header=(("x-canary", "insider"),))
        load = LoadProfile(
            users=20, rps=100, cohorts=(Cohort("other", 0.1, header=(("x-other", "1"),)), tiny)
        )
        (trap,) = cohort_sample_traps(spec(), load, Policy())
        assert "gets no synthetic user" in trap.message

    def test_no_cohort_matches_the_canary(self) -> None:
        """Cohorts whose headers differ from analysis.match: the canary gets nothing."""
        load = LoadProfile(users=20, rps=100, cohorts=(Cohort("beta", 0.3, header=(("X-Cohort", "beta"),)),))
        assert codes(cohort_sample_traps(spec(), load, Policy())) == ["cohort-not-captured"]


class TestDeadlineTraps:
    def test_iterations_longer_than_the_policy(self) -> None:
        """10 × 1 m: a decision ≥ 780 s after detection > 600 s; at most 7 iterations."""
        (trap,) = deadline_traps(spec(iterations=10), Policy())
        assert trap.code == "iterations-exceed-deadline"
        assert "decides ≥ 780 s" in trap.message
        assert "progressDeadlineSeconds (60 s) does not stop it" in trap.message
        assert trap.remedy.startswith("at most 7 iterations")

    def test_the_promotion_ticks_count(self) -> None:
        """8 × 1 m starts promoting at 540 s but decides at 660 s: a trap (measured: 5 iterations + the
        primary's rollout took 651 s on the local backend); 7 × 1 m decides at 600 s: none."""
        assert codes(deadline_traps(spec(iterations=8), Policy())) == ["iterations-exceed-deadline"]
        assert deadline_traps(spec(iterations=7), Policy()) == ()

    def test_within_the_policy(self) -> None:
        """5 × 1 m: 480 s, no trap."""
        assert deadline_traps(spec(), Policy()) == ()

    def test_all_families_together(self) -> None:
        """Traefik, 10 iterations: exposure and deadline (no sample trap off Gateway API)."""
        load = LoadProfile(users=20, rps=1, cohorts=(INSIDER,))
        assert codes(cohort_traps(spec("traefik", iterations=10), load, Policy())) == [
            "ab-testing-on-traefik",
            "iterations-exceed-deadline",
        ]


class TestCanaryTrafficShare:
    def test_captured_cohorts_share(self) -> None:
        """Only the insider cohort (3 of 20 users) is captured: an iteration sends 15 % to the canary."""
        load = LoadProfile(
            users=20, rps=10, cohorts=(INSIDER, Cohort("beta", 0.3, header=(("X-Cohort", "b"),)))
        )
        assert [c.name for c in captured_cohorts(spec(), load)] == ["insider"]
        assert canary_traffic_share(spec(), load) == pytest.approx(0.15)

    def test_unenforced_match_is_everything(self) -> None:
        """Traefik, or a match Flagger drops: 100 % of the traffic."""
        load = LoadProfile(users=20, rps=10, cohorts=(INSIDER,))
        assert canary_traffic_share(spec("traefik"), load) == 1.0
        prefix = [{"headers": {"x-canary": {"prefix": "in"}}}]
        assert canary_traffic_share(spec(match=prefix), load) == 1.0


class TestHostnameTraps:
    def test_hosts_the_clients_do_not_use(self) -> None:
        """The tutorial's www.example.com on the mesh: clients calling podinfo.test get 404s."""
        with_hosts = spec(match=[{"headers": {"x-canary": {"exact": "insider"}}}])
        doc_hosts = parse_canary(ab_document(hosts=["www.example.com"]), "c.yaml")
        assert hostname_traps(with_hosts, ["podinfo.test"]) == ()
        (trap,) = hostname_traps(doc_hosts, ["podinfo.test", "www.example.com"])
        assert trap.code == "hostnames-miss-clients"
        assert "['podinfo.test']" in trap.message


class TestWiredIntoThePlanner:
    """The planner reports the cohort families: spec traps, deadline traps, and with a load the samples."""

    def test_match_on_traefik_is_a_plan_error(self) -> None:
        """The old ab-testing-on-traefik trap now comes from cohort_traps (100 % exposure) and blocks GO."""
        planned = plan(spec("traefik"), rps=10)
        (trap,) = [t for t in planned.traps if t.code == "ab-testing-on-traefik"]
        assert "100 %" in trap.message
        assert "gatewayapi" in trap.remedy
        assert planned.verdict == "NO-GO"

    def test_a_dropped_match_on_gateway_api_is_a_plan_error(self) -> None:
        """A prefix header match: Flagger drops the list, everyone goes to the canary."""
        planned = plan(spec(match=[{"headers": {"x-canary": {"prefix": "in"}}}]), rps=10)
        assert "ab-match-exposes-everyone" in codes(planned.traps)

    def test_iterations_beyond_the_deadline(self) -> None:
        """10 iterations × 1 m against the policy's 600 s: a warning in the plan."""
        assert "iterations-exceed-deadline" in codes(plan(spec(iterations=10), rps=10).traps)
        assert "iterations-exceed-deadline" not in codes(plan(spec(), rps=10).traps)

    def test_a_small_cohort_needs_the_load(self) -> None:
        """With the load: 3 of 20 users at 5 req/s are below 50 per window; without it, no sample trap."""
        load = LoadProfile(users=20, rps=5, cohorts=(INSIDER,))
        assert "cohort-too-small" in codes(plan(spec(), rps=5, load=load).traps)
        assert "cohort-too-small" not in codes(plan(spec(), rps=5).traps)

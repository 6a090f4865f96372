"""The HTTPRoute Flagger v1.44 writes on gatewayapi:v1beta1, and where its A/B cohort leaks (pure)."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from harness.controllers.flagger.gateway_api import (
    exposure_problems,
    flagger_httproute,
    map_route_matches,
    parse_matches,
    route_weights,
)
from harness.controllers.flagger.model import CanarySpec
from harness.errors import CanarySpecError
from harness.providers.linkerd.httproute import BackendRef, Request, RouteError, WeightedBackendPicker
from harness.providers.linkerd.route_manifest import from_manifest, to_manifest
from harness.scenario.flagger_canary import parse_canary
from tests.cohort_fixtures import SUCCESS_RATE, TUTORIAL_MATCH, canary_document

# The A/B Canary of Flagger's Gateway API tutorial, with the Linkerd parent (the apex Service).
AB_CANARY = canary_document(
    {"interval": "1m", "iterations": 10, "threshold": 2, "match": TUTORIAL_MATCH, "metrics": [SUCCESS_RATE]},
    port=9898,
    targetPort=9898,
)


def canary(match: Any = None, service_match: Any = None, **service: Any) -> CanarySpec:
    doc = copy.deepcopy(AB_CANARY)
    if match is None:
        analysis = doc["spec"]["analysis"]
        del analysis["match"], analysis["iterations"]
        analysis.update(maxWeight=50, stepWeight=10)
    else:
        doc["spec"]["analysis"]["match"] = match
    doc["spec"]["service"].update(service)
    if service_match is not None:
        doc["spec"]["service"]["match"] = service_match
    return parse_canary(doc, "canary.yaml")


def backend(spec: CanarySpec, weights: tuple[int, int], **headers: str) -> str | None:
    """Where one request goes under the route Flagger writes at ``weights``."""
    route = flagger_httproute(spec, *weights)
    selection = route.select(Request.of("GET", "/", headers))
    if selection is None:
        return None
    return WeightedBackendPicker(selection.rule.backend_refs, seed=0).pick()


class TestCanarySteps:
    def test_one_rule_with_both_weights(self) -> None:
        """A canary step: PathPrefix / → podinfo-primary 90, podinfo-canary 10, on service.port."""
        route = flagger_httproute(canary(), 90, 10)
        assert route.name == "podinfo"
        assert route.namespace == "test"
        assert len(route.rules) == 1
        (rule,) = route.rules
        assert [(m.path.type, m.path.value) for m in rule.matches if m.path] == [("PathPrefix", "/")]
        assert rule.backend_refs == (
            BackendRef("podinfo-primary", 90, 9898),
            BackendRef("podinfo-canary", 10, 9898),
        )

    def test_service_name_is_the_apex(self) -> None:
        """service.name renames the route and both backends."""
        route = flagger_httproute(canary(name="shop"), 100, 0)
        assert route.name == "shop"
        assert [b.name for b in route.rules[0].backend_refs] == ["shop-primary", "shop-canary"]

    def test_manifest_is_the_kubernetes_object(self) -> None:
        """The rendered object carries parentRefs and Gateway API backendRefs."""
        manifest = to_manifest(flagger_httproute(canary(), 70, 30))
        assert manifest["apiVersion"] == "gateway.networking.k8s.io/v1beta1"
        assert manifest["spec"]["parentRefs"] == [
            {"name": "podinfo", "namespace": "test", "group": "core", "kind": "Service", "port": 9898}
        ]
        refs = manifest["spec"]["rules"][0]["backendRefs"]
        assert refs[1] == {
            "group": "",
            "kind": "Service",
            "name": "podinfo-canary",
            "port": 9898,
            "weight": 30,
        }

    def test_manifest_reads_back_to_the_same_route(self) -> None:
        """What the local backend sends the stand-in is the route Flagger built, A/B rules included."""
        for spec in (canary(), canary(match=[{"headers": {"x-canary": {"exact": "insider"}}}])):
            route = flagger_httproute(spec, 0, 100)
            assert from_manifest(to_manifest(route)) == route

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            (lambda m: m["spec"]["rules"][0].update(filters=[]), "spec.rules[0].filters"),
            (lambda m: m["spec"]["rules"][0]["backendRefs"][0].update(weight="1"), "weight"),
            (lambda m: m["spec"]["rules"][0]["backendRefs"][0].update(kind="Pod"), "Service backendRef"),
            (lambda m: m["spec"].update(rules="x"), "spec.rules: expected a list"),
        ],
    )
    def test_manifest_the_stand_in_cannot_apply_is_refused(self, change: Any, field: str) -> None:
        """Filters, non-integer weights and non-Service backends are errors naming the field."""
        manifest = to_manifest(flagger_httproute(canary(), 90, 10))
        change(manifest)
        with pytest.raises(RouteError, match=re.escape(field)):
            from_manifest(manifest)

    def test_gateway_refs_are_required(self) -> None:
        """Flagger's Reconcile fails without service.gatewayRefs."""
        with pytest.raises(RouteError, match="GatewayRefs"):
            flagger_httproute(canary(gatewayRefs=[]), 100, 0)

    def test_unsupported_service_match_fails_reconcile(self) -> None:
        """A prefix header in service.match is an error Flagger reports (not ignored there)."""
        with pytest.raises(RouteError, match="Invalid request matching selectors"):
            flagger_httproute(canary(service_match=[{"headers": {"x": {"prefix": "a"}}}]), 100, 0)


class TestABRoute:
    def test_docs_canary_loads_and_builds_two_rules(self) -> None:
        """Flagger's tutorial A/B Canary: rule 1 = two header matches → 0/100, rule 2 = / → primary 100."""
        spec = parse_canary(AB_CANARY, "ab.yaml")
        route = flagger_httproute(spec, 0, 100)
        cohort, rest = route.rules
        assert [(h.name, h.type) for m in cohort.matches for h in m.headers] == [
            ("user-agent", "RegularExpression"),
            ("cookie", "RegularExpression"),
        ]
        assert all(m.path is not None and m.path.value == "/" for m in cohort.matches)
        assert [b.weight for b in cohort.backend_refs] == [0, 100]
        assert rest.backend_refs == (BackendRef("podinfo-primary", 100, 9898),)

    def test_cohort_goes_to_the_canary_everyone_else_to_the_primary(self) -> None:
        """During iterations the header and the cookie cohorts reach the canary, nobody else does."""
        spec = parse_canary(AB_CANARY, "ab.yaml")
        assert backend(spec, (0, 100), **{"user-agent": "Mozilla Firefox/120"}) == "podinfo-canary"
        assert backend(spec, (0, 100), Cookie="type=insider") == "podinfo-canary"
        assert backend(spec, (0, 100), **{"user-agent": "curl/8"}) == "podinfo-primary"
        assert backend(spec, (0, 100), Cookie="a=1; type=insider") == "podinfo-primary"  # the docs regex

    def test_rollback_routes_the_cohort_back(self) -> None:
        """After rollback (100/0) the cohort is on the primary too."""
        spec = parse_canary(AB_CANARY, "ab.yaml")
        assert backend(spec, (100, 0), Cookie="type=insider") == "podinfo-primary"

    def test_get_routes_reads_the_weighted_rule(self) -> None:
        """GetRoutes skips the primary-only rule: an A/B iteration reads back as 0/100."""
        spec = parse_canary(AB_CANARY, "ab.yaml")
        assert route_weights(flagger_httproute(spec, 0, 100), "podinfo") == (0, 100)
        assert route_weights(flagger_httproute(canary(), 80, 20), "podinfo") == (80, 20)

    def test_merge_keeps_service_paths_with_analysis_headers(self) -> None:
        """service.match × analysis.match: each service path with each cohort's headers."""
        spec = canary(
            match=[{"headers": {"x-canary": {"exact": "insider"}}}, {"headers": {"x-beta": {"exact": "1"}}}],
            service_match=[{"uri": {"prefix": "/api"}}, {"uri": {"exact": "/"}}],
        )
        cohort = flagger_httproute(spec, 0, 100).rules[0]
        pairs = [(m.path.value if m.path else None, m.headers[0].name) for m in cohort.matches]
        assert pairs == [("/api", "x-canary"), ("/", "x-canary"), ("/api", "x-beta"), ("/", "x-beta")]


class TestExposure:
    def test_a_bounded_cohort_has_no_problem(self) -> None:
        """Exact and regex header matches bound the cohort."""
        assert exposure_problems(parse_canary(AB_CANARY, "ab.yaml")) == ()

    def test_prefix_header_sends_everyone_to_the_canary(self) -> None:
        """One prefix entry poisons the list: Flagger drops it silently and rule 1 matches everything."""
        spec = canary(
            match=[
                {"headers": {"x-canary": {"exact": "insider"}}},
                {"headers": {"user-agent": {"prefix": "Moz"}}},
            ]
        )
        (problem,) = exposure_problems(spec)
        assert problem.everyone
        assert "user-agent" in problem.message
        assert backend(spec, (0, 100)) == "podinfo-canary"  # a request with no cohort header at all

    def test_uri_only_entry_sends_everyone_to_the_canary(self) -> None:
        """The merge drops the analysis uri: an entry with only uri matches every request."""
        spec = canary(match=[{"uri": {"prefix": "/beta"}}])
        (problem,) = exposure_problems(spec)
        assert problem.everyone
        assert backend(spec, (0, 100)) == "podinfo-canary"

    def test_uri_with_headers_widens_the_cohort(self) -> None:
        """uri next to headers is dropped too: the header cohort reaches the canary on every path."""
        spec = canary(match=[{"uri": {"prefix": "/beta"}, "headers": {"x-canary": {"exact": "insider"}}}])
        (problem,) = exposure_problems(spec)
        assert not problem.everyone
        route = flagger_httproute(spec, 0, 100)
        assert route.select(Request.of("GET", "/other", {"x-canary": "insider"})).index == 0

    def test_source_labels_only_list_maps_to_nothing(self) -> None:
        """sourceLabels means nothing to Gateway API: the entry is skipped and the list is empty."""
        spec = canary(match=[{"sourceLabels": {"app": "scheduler"}}])
        problems = exposure_problems(spec)
        assert problems
        assert all(p.everyone for p in problems)
        assert map_route_matches(parse_matches(list(spec.analysis.match), ("m",))).matches == ()


class TestParseErrors:
    def test_bad_shape_is_located(self) -> None:
        """A header value that is not a StringMatch names the field path and the file."""
        with pytest.raises(CanarySpecError) as caught:
            flagger_httproute(canary(match=[{"headers": {"x-canary": "insider"}}]), 0, 100)
        problem = caught.value.problems[0]
        assert problem.path == "spec.analysis.match[0].headers.x-canary"
        assert problem.file == "canary.yaml"
        assert "exact, prefix, suffix or regex" in problem.expected

    def test_non_string_value_is_located(self) -> None:
        """exact: 1 (a number) is reported at its own path."""
        with pytest.raises(CanarySpecError) as caught:
            parse_matches([{"headers": {"x": {"exact": 1}}}], ("spec", "analysis", "match"))
        assert caught.value.problems[0].path == "spec.analysis.match[0].headers.x.exact"

"""HTTPRoute matching and backend choice as Linkerd's proxy applies them (pure)."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import pytest

from harness.providers.linkerd.httproute import (
    BackendRef,
    Decision,
    HeaderMatch,
    HTTPRoute,
    HTTPRouteRule,
    PathMatch,
    QueryParamMatch,
    Request,
    RouteError,
    RouteMatch,
    RouteTable,
    WeightedBackendPicker,
)

FLAGGER_COOKIE = "^(.*?;)?(canary=always)(;.*)?$"  # Flagger docs (deployment-strategies.md)


def get(path: str = "/", **headers: str) -> Request:
    return Request.of("GET", path, [(k.replace("_", "-"), v) for k, v in headers.items()])


def rule(*matches: RouteMatch, to: str) -> HTTPRouteRule:
    return HTTPRouteRule(matches, (BackendRef(to),))


def routed(route: HTTPRoute, request: Request) -> str | None:
    selection = route.select(request)
    return None if selection is None else selection.rule.backend_refs[0].name


class TestPathMatch:
    def test_prefix_matches_whole_segments_only(self) -> None:
        """PathPrefix /api matches /api, /api/ and /api/x, never /apix."""
        prefix = PathMatch("PathPrefix", "/api/")
        assert [prefix.match_length(p) for p in ("/api", "/api/", "/api/x", "/apix")] == [4, 4, 4, None]

    def test_root_prefix_matches_everything_with_length_one(self) -> None:
        """PathPrefix / ranks as 1 for any path."""
        assert PathMatch("PathPrefix", "/").match_length("/deep/path") == 1

    def test_exact_and_regex_lengths(self) -> None:
        """Exact ranks by its value, a regex by the request path, and must span the whole path."""
        assert PathMatch("Exact", "/a").match_length("/a") == 2
        assert PathMatch("Exact", "/a").match_length("/a/") is None
        assert PathMatch("RegularExpression", "/items/[0-9]+").match_length("/items/42") == 9
        assert PathMatch("RegularExpression", "/items/[0-9]+").match_length("/items/42/x") is None


class TestHeaderMatch:
    def test_exact_name_is_case_insensitive_value_is_not(self) -> None:
        """x-canary matches X-Canary: insider, not X-Canary: Insider."""
        match = HeaderMatch("x-canary", "insider")
        assert match.matches(get(X_Canary="insider"))
        assert not match.matches(get(X_Canary="Insider"))
        assert not match.matches(get())

    def test_any_of_repeated_values(self) -> None:
        """With two fields of the same header, one equal value is enough."""
        request = Request.of("GET", "/", [("x-canary", "no"), ("X-Canary", "insider")])
        assert HeaderMatch("x-canary", "insider").matches(request)

    def test_regex_must_span_the_value(self) -> None:
        """Firefox alone does not match a user agent that merely contains it; .*Firefox.* does."""
        agent = get(user_agent="Mozilla/5.0 Firefox/120.0")
        assert not HeaderMatch("user-agent", "Firefox", "RegularExpression").matches(agent)
        assert HeaderMatch("user-agent", ".*Firefox.*", "RegularExpression").matches(agent)

    def test_regex_uses_the_leftmost_first_match(self) -> None:
        """a|ab does not match 'ab': Linkerd checks the first match's span, it does not backtrack to fit."""
        assert not HeaderMatch("x", "a|ab", "RegularExpression").matches(get(x="ab"))
        assert HeaderMatch("x", "ab|a", "RegularExpression").matches(get(x="ab"))

    def test_lookaround_is_rejected_like_rust_regex(self) -> None:
        """RE2 has no lookahead: the route is invalid."""
        route = HTTPRoute(
            "r",
            "ns",
            (rule(RouteMatch(headers=(HeaderMatch("x", "(?!a).*", "RegularExpression"),)), to="c"),),
        )
        with pytest.raises(RouteError, match="lookaround"):
            route.validate()

    def test_query_param_exact_and_regex(self) -> None:
        """Query params match decoded pairs by exact value or a spanning regex."""
        request = Request.of("GET", "/?group=beta%20users&n=7")
        assert QueryParamMatch("group", "beta users").matches(request)
        assert QueryParamMatch("n", "[0-9]", "RegularExpression").matches(request)
        assert not QueryParamMatch("n", "[0-9]", "RegularExpression").matches(Request.of("GET", "/?n=77"))


class TestCookieAsFlaggerWritesIt:
    @pytest.mark.parametrize(
        ("cookie", "expected"),
        [("canary=always", True), ("canary=always; a=1", True), ("a=1;canary=always", True),
         ("a=1; canary=always", False), ("canary=never", False)],
    )  # fmt: skip
    def test_flagger_docs_regex(self, cookie: str, expected: bool) -> None:
        """The documented cookie regex misses a cookie after '; ' (how browsers and our users join them)."""
        match = HeaderMatch("cookie", FLAGGER_COOKIE, "RegularExpression")
        assert match.matches(get(Cookie=cookie)) is expected

    def test_nginx_style_exact_cookie_matches_only_the_whole_header(self) -> None:
        """cookie: {exact: canary} on Gateway API compares the whole Cookie header with 'canary'."""
        match = HeaderMatch("cookie", "canary")
        assert not match.matches(get(Cookie="canary=always"))
        assert match.matches(get(Cookie="canary"))


class TestPrecedence:
    def test_more_headers_beat_an_earlier_rule(self) -> None:
        """Specificity, not file order: the later rule with a header match wins."""
        route = HTTPRoute(
            "r", "ns", (rule(to="primary"), rule(RouteMatch(headers=(HeaderMatch("x", "1"),)), to="canary"))
        )
        assert routed(route, get(x="1")) == "canary"
        assert routed(route, get(x="2")) == "primary"

    def test_equal_rank_keeps_the_first_rule(self) -> None:
        """Two rules matching alike: the first in the list wins."""
        match = RouteMatch(PathMatch("PathPrefix", "/"))
        route = HTTPRoute("r", "ns", (rule(match, to="first"), rule(match, to="second")))
        assert routed(route, get()) == "first"

    def test_longer_path_beats_more_headers(self) -> None:
        """Path length ranks before the header count."""
        headers = RouteMatch(PathMatch("PathPrefix", "/"), (HeaderMatch("x", "1"), HeaderMatch("y", "1")))
        route = HTTPRoute(
            "r",
            "ns",
            (rule(headers, to="headers"), rule(RouteMatch(PathMatch("PathPrefix", "/api")), to="path")),
        )
        assert routed(route, get("/api/orders", x="1", y="1")) == "path"

    def test_headers_beat_method_unlike_the_spec_order(self) -> None:
        """Linkerd ranks the method last: one header beats a method match."""
        method = RouteMatch(method="GET")
        header = RouteMatch(headers=(HeaderMatch("x", "1"),))
        route = HTTPRoute("r", "ns", (rule(method, to="method"), rule(header, to="header")))
        assert routed(route, get(x="1")) == "header"

    def test_a_rule_ranks_by_its_best_matching_match(self) -> None:
        """A rule with a generic and a specific match ranks by the specific one when it applies."""
        mixed = rule(
            RouteMatch(), RouteMatch(headers=(HeaderMatch("x", "1"), HeaderMatch("y", "1"))), to="mixed"
        )
        single = rule(RouteMatch(headers=(HeaderMatch("x", "1"),)), to="single")
        route = HTTPRoute("r", "ns", (single, mixed))
        assert routed(route, get(x="1", y="1")) == "mixed"
        assert routed(route, get(x="1")) == "single"

    def test_no_rule_matches(self) -> None:
        """A request no rule matches has no route (the proxy answers 404)."""
        route = HTTPRoute("r", "ns", (rule(RouteMatch(PathMatch("Exact", "/only")), to="c"),))
        assert route.select(get("/other")) is None

    def test_hostnames_filter_exact_and_wildcard(self) -> None:
        """hostnames: exact names and *.suffix wildcards; the port is ignored."""
        route = HTTPRoute("r", "ns", (rule(to="c"),), hostnames=("www.example.com", "*.shop.example"))
        assert routed(route, get(Host="www.example.com:8080")) == "c"
        assert routed(route, get(Host="eu.shop.example")) == "c"
        assert routed(route, get(Host="shop.example")) is None
        assert routed(route, get()) is None


class TestWeightedBackendPicker:
    def test_share_follows_the_weights(self) -> None:
        """20 000 picks at 95/5: the canary share is within 4 sigma of 5 %."""
        picker = WeightedBackendPicker((BackendRef("primary", 95), BackendRef("canary", 5)), seed="run-1")
        counts = Counter(picker.pick() for _ in range(20_000))
        sigma = math.sqrt(20_000 * 0.05 * 0.95)
        assert abs(counts["canary"] - 1000) < 4 * sigma
        assert counts["primary"] + counts["canary"] == 20_000

    def test_same_seed_same_sequence(self) -> None:
        """The draw is reproducible for a run seed."""
        backends = (BackendRef("primary", 70), BackendRef("canary", 30))
        a, b = WeightedBackendPicker(backends, seed=7), WeightedBackendPicker(backends, seed=7)
        assert [a.pick() for _ in range(200)] == [b.pick() for _ in range(200)]

    def test_random_not_round_robin(self) -> None:
        """Unlike Traefik's EDF, the gaps between canary picks at 5 % are not all 20."""
        picker = WeightedBackendPicker((BackendRef("primary", 95), BackendRef("canary", 5)), seed=1)
        picks = [picker.pick() for _ in range(2000)]
        hits = [i for i, name in enumerate(picks) if name == "canary"]
        gaps = {b - a for a, b in itertools.pairwise(hits)}
        assert len(gaps) > 5

    def test_zero_weight_is_never_picked(self) -> None:
        """Weight 0 (Flagger's A/B rule at rollback) sends nothing to that backend."""
        picker = WeightedBackendPicker((BackendRef("primary", 0), BackendRef("canary", 100)))
        assert {picker.pick() for _ in range(500)} == {"canary"}

    def test_unavailable_backend_share_goes_to_the_other(self) -> None:
        """A canary without ready endpoints: every request falls back to the primary."""
        picker = WeightedBackendPicker((BackendRef("primary", 50), BackendRef("canary", 50)))
        assert {picker.pick(lambda name: name != "canary") for _ in range(200)} == {"primary"}
        assert picker.pick(lambda _name: False) is None

    def test_single_backend_ignores_its_weight(self) -> None:
        """One backendRef is used whatever its weight (FirstAvailable)."""
        assert WeightedBackendPicker((BackendRef("primary", 0),)).pick() == "primary"

    def test_all_zero_weights_is_an_error(self) -> None:
        """Two backends both at weight 0 have nowhere to send traffic."""
        with pytest.raises(RouteError, match="weight 0"):
            WeightedBackendPicker((BackendRef("a", 0), BackendRef("b", 0)))


class TestRouteTable:
    ROUTE = HTTPRoute(
        "podinfo",
        "test",
        (
            HTTPRouteRule(
                (RouteMatch(headers=(HeaderMatch("x-canary", "insider"),)),),
                (BackendRef("podinfo-primary", 0), BackendRef("podinfo-canary", 100)),
            ),
            HTTPRouteRule((RouteMatch(PathMatch("PathPrefix", "/")),), (BackendRef("podinfo-primary", 100),)),
        ),
    )

    def test_cohort_and_rest(self) -> None:
        """The cohort rule's picker sends insiders to the canary; the rest rule to the primary."""
        table = RouteTable(self.ROUTE, seed="run")
        assert table.decide(get(x_canary="insider")) == Decision("podinfo-canary", 0)
        assert table.decide(get()) == Decision("podinfo-primary", 1)

    def test_no_ready_canary_at_full_weight_has_nowhere_to_go(self) -> None:
        """Canary without endpoints: its 100 % share cannot go elsewhere (primary weight 0 is never drawn)."""
        table = RouteTable(self.ROUTE)
        assert table.decide(get(x_canary="insider"), lambda name: name != "podinfo-canary") == Decision(
            None, 0
        )

    def test_no_route(self) -> None:
        """No rule matches: no backend, no rule."""
        table = RouteTable(HTTPRoute("r", "ns", (rule(RouteMatch(PathMatch("Exact", "/x")), to="c"),)))
        assert table.decide(get("/y")) == Decision(None, None)

"""An ``HTTPRoute`` as the Kubernetes object (``gateway.networking.k8s.io/v1beta1``) and back (pure).

``to_manifest`` is what Flagger creates on a cluster and what the local stand-in is sent over its admin API;
``from_manifest`` reads such an object back (the subset ``harness.providers.linkerd.httproute`` models:
parentRefs, hostnames, rules with path/header/queryParam/method matches and weighted Service backendRefs).
Anything else (filters, timeouts, sessionPersistence) is refused with its field path, so a route the
stand-in cannot apply is never applied half-way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from harness.providers.linkerd.httproute import (
    BackendRef,
    HeaderMatch,
    HTTPRoute,
    HTTPRouteRule,
    ParentRef,
    PathMatch,
    PathMatchType,
    QueryParamMatch,
    RouteError,
    RouteMatch,
    ValueMatchType,
)

API_VERSION = "gateway.networking.k8s.io/v1beta1"
_PATH_TYPES = ("Exact", "PathPrefix", "RegularExpression")
_VALUE_TYPES = ("Exact", "RegularExpression")


def to_manifest(route: HTTPRoute) -> dict[str, Any]:
    """The HTTPRoute as the Kubernetes object Flagger creates."""
    return {
        "apiVersion": API_VERSION,
        "kind": "HTTPRoute",
        "metadata": {"name": route.name, "namespace": route.namespace},
        "spec": {
            "parentRefs": [_drop_none(vars(p)) for p in route.parent_refs],
            **({"hostnames": list(route.hostnames)} if route.hostnames else {}),
            "rules": [
                {
                    "matches": [_match_manifest(m) for m in rule.matches],
                    "backendRefs": [
                        {"group": "", "kind": "Service", "name": b.name, "port": b.port, "weight": b.weight}
                        for b in rule.backend_refs
                    ],
                }
                for rule in route.rules
            ],
        },
    }


def from_manifest(data: Any) -> HTTPRoute:
    """The route of an HTTPRoute object; ``RouteError`` names the first field it cannot read."""
    reader = _Reader()
    metadata = reader.mapping(data, "metadata", ("metadata",))
    spec = reader.mapping(data, "spec", ("spec",))
    reader.known(spec, ("parentRefs", "hostnames", "rules"), "spec")
    parents = tuple(
        _parent(reader, ref, f"spec.parentRefs[{i}]")
        for i, ref in enumerate(reader.sequence(spec, "parentRefs", "spec.parentRefs"))
    )
    hosts = tuple(
        reader.string(host, f"spec.hostnames[{i}]")
        for i, host in enumerate(reader.sequence(spec, "hostnames", "spec.hostnames"))
    )
    rules = tuple(
        _rule(reader, rule, f"spec.rules[{i}]")
        for i, rule in enumerate(reader.sequence(spec, "rules", "spec.rules"))
    )
    name = reader.string(metadata.get("name"), "metadata.name")
    namespace = reader.string(metadata.get("namespace", ""), "metadata.namespace")
    return HTTPRoute(name, namespace, rules, parents, hosts).validate()


class _Reader:
    def fail(self, at: str, expected: str, found: Any) -> RouteError:
        return RouteError(f"HTTPRoute {at}: expected {expected}, found {found!r}")

    def mapping(self, data: Any, key: str, at: tuple[str, ...]) -> Mapping[str, Any]:
        value = data.get(key) if isinstance(data, Mapping) else None
        if not isinstance(value, Mapping):
            raise self.fail(".".join(at), "a mapping", value)
        return cast(Mapping[str, Any], value)

    def sequence(self, data: Mapping[str, Any], key: str, at: str) -> Sequence[Any]:
        value = data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail(at, "a list", value)
        return value

    def string(self, value: Any, at: str) -> str:
        if not isinstance(value, str):
            raise self.fail(at, "a string", value)
        return value

    def known(self, data: Mapping[str, Any], keys: Sequence[str], at: str) -> None:
        for key in data:
            if key not in keys:
                raise self.fail(f"{at}.{key}", f"one of {', '.join(keys)} (what the stand-in applies)", key)


def _parent(reader: _Reader, ref: Any, at: str) -> ParentRef:
    if not isinstance(ref, Mapping):
        raise reader.fail(at, "a mapping", ref)
    port = ref.get("port")
    return ParentRef(
        reader.string(ref.get("name"), f"{at}.name"),
        ref.get("namespace"),
        ref.get("group"),
        ref.get("kind"),
        port if isinstance(port, int) else None,
    )


def _rule(reader: _Reader, rule: Any, at: str) -> HTTPRouteRule:
    if not isinstance(rule, Mapping):
        raise reader.fail(at, "a mapping", rule)
    reader.known(rule, ("matches", "backendRefs"), at)
    matches = tuple(
        _match(reader, m, f"{at}.matches[{i}]")
        for i, m in enumerate(reader.sequence(rule, "matches", f"{at}.matches"))
    )
    backends = tuple(
        _backend(reader, b, f"{at}.backendRefs[{i}]")
        for i, b in enumerate(reader.sequence(rule, "backendRefs", f"{at}.backendRefs"))
    )
    return HTTPRouteRule(matches, backends)


def _match(reader: _Reader, match: Any, at: str) -> RouteMatch:
    if not isinstance(match, Mapping):
        raise reader.fail(at, "a mapping", match)
    reader.known(match, ("path", "headers", "queryParams", "method"), at)
    path = None
    if match.get("path") is not None:
        raw = match["path"]
        kind = raw.get("type", "PathPrefix") if isinstance(raw, Mapping) else None
        if kind not in _PATH_TYPES:
            raise reader.fail(f"{at}.path.type", f"one of {', '.join(_PATH_TYPES)}", kind)
        path = PathMatch(cast(PathMatchType, kind), reader.string(raw.get("value", "/"), f"{at}.path.value"))
    headers = tuple(
        HeaderMatch(*_name_value(reader, h, f"{at}.headers[{i}]"))
        for i, h in enumerate(reader.sequence(match, "headers", f"{at}.headers"))
    )
    params = tuple(
        QueryParamMatch(*_name_value(reader, q, f"{at}.queryParams[{i}]"))
        for i, q in enumerate(reader.sequence(match, "queryParams", f"{at}.queryParams"))
    )
    method = match.get("method")
    if method is not None:
        method = reader.string(method, f"{at}.method")
    return RouteMatch(path, headers, params, method)


def _name_value(reader: _Reader, raw: Any, at: str) -> tuple[str, str, ValueMatchType]:
    if not isinstance(raw, Mapping):
        raise reader.fail(at, "a mapping with name, value and type", raw)
    kind = raw.get("type", "Exact")
    if kind not in _VALUE_TYPES:
        raise reader.fail(f"{at}.type", f"one of {', '.join(_VALUE_TYPES)}", kind)
    name = reader.string(raw.get("name"), f"{at}.name")
    return name, reader.string(raw.get("value"), f"{at}.value"), cast(ValueMatchType, kind)


def _backend(reader: _Reader, raw: Any, at: str) -> BackendRef:
    if not isinstance(raw, Mapping):
        raise reader.fail(at, "a mapping with name, port and weight", raw)
    if raw.get("kind", "Service") != "Service" or raw.get("group", "") not in ("", "core"):
        raise reader.fail(at, "a Service backendRef", {k: raw.get(k) for k in ("group", "kind")})
    weight = raw.get("weight", 1)
    port = raw.get("port")
    if not isinstance(weight, int) or isinstance(weight, bool):
        raise reader.fail(f"{at}.weight", "an integer", weight)
    if port is not None and not isinstance(port, int):
        raise reader.fail(f"{at}.port", "an integer", port)
    return BackendRef(reader.string(raw.get("name"), f"{at}.name"), weight, port)


def _match_manifest(match: RouteMatch) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if match.path is not None:
        out["path"] = {"type": match.path.type, "value": match.path.value}
    if match.headers:
        out["headers"] = [{"name": h.name, "type": h.type, "value": h.value} for h in match.headers]
    if match.query_params:
        out["queryParams"] = [{"name": q.name, "type": q.type, "value": q.value} for q in match.query_params]
    if match.method is not None:
        out["method"] = match.method
    return out


def _drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}

"""Load a Flagger ``Canary`` (``flagger.app/v1beta1``) into ``CanarySpec``, validated like the CRD (pure).

Validation follows ``artifacts/flagger/crd.yaml`` (v1.44): required ``targetRef`` {apiVersion, kind,
name}, ``service.port``, ``analysis`` with ``oneOf`` {interval, threshold} + exactly one of
{iterations, stepWeight, stepWeights}, the ``^[0-9]+(m|s)`` duration patterns and the enums; integers must
fit int32, as Flagger's Go types need (``yamldocs.as_int32``). Fields we do not model are ignored, never
rejected, so Flagger's own example manifests load unchanged.

Defaulting follows ``pkg/apis/flagger/v1beta1/canary.go`` (spec §1.1): effective interval (<10 s → 10 s,
unparsable → 60 s), threshold ≤ 0 → 1, progressDeadlineSeconds 600, ready thresholds 100, webhook
timeout 10 s and empty type → rollout. The metric ``interval`` is kept raw: Flagger defaults it to "1m"
only for builtin and inline-query metrics, at query time (§5.4).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from harness.controllers.flagger.gofmt import parse_go_duration
from harness.controllers.flagger.model import (
    AlertSpec,
    AnalysisSpec,
    CanarySpec,
    MetricSpec,
    ThresholdRange,
    WebhookSpec,
    WebhookType,
)
from harness.errors import CanarySpecError, Problem
from harness.providers.registry import DEFAULT_PROVIDER
from harness.scenario.yamldocs import (
    INT32,
    PORT,
    Document,
    DocumentSource,
    FieldReader,
    as_bool,
    as_int32,
    as_list,
    as_mapping,
    as_number,
    as_port,
    as_str,
    as_str_map,
    describe,
    matching,
    one_of,
    source_documents,
)
from harness.scenario.yamlloc import FieldPath

API_VERSION = "flagger.app/v1beta1"
DEFAULT_INTERVAL_SECONDS = 60.0
MIN_INTERVAL_SECONDS = 10.0
DEFAULT_WEBHOOK_TIMEOUT_SECONDS = 10.0
DURATION_PATTERN = r"^[0-9]+(m|s)"
PROVIDERS = (
    "apisix", "appmesh", "appmesh:v1beta2", "contour", "gatewayapi:v1", "gatewayapi:v1beta1", "gloo",
    "istio", "knative", "kubernetes", "kuma", "linkerd", "nginx", "osm", "skipper", "smi:v1alpha1",
    "smi:v1alpha2", "smi:v1alpha3", "traefik",
)  # fmt: skip
HOOK_TYPES = (
    "", "confirm-rollout", "pre-rollout", "rollout", "confirm-promotion", "post-rollout", "event",
    "rollback", "confirm-traffic-increase",
)  # fmt: skip
STRATEGY_KEYS = ("iterations", "stepWeight", "stepWeights")


# ---- public API ------------------------------------------------------------------------------------
def load_canary(
    path: str | Path, *, default_namespace: str = "default", mesh_provider: str = DEFAULT_PROVIDER
) -> CanarySpec:
    """Read ``path`` and return its Canary (the ``kind: Canary`` document of a multi-document file)."""
    return parse_canary(Path(path), default_namespace=default_namespace, mesh_provider=mesh_provider)


def parse_canary(
    document: DocumentSource,
    source: str | None = None,
    *,
    default_namespace: str = "default",
    mesh_provider: str = DEFAULT_PROVIDER,
) -> CanarySpec:
    """A Canary from YAML text, a file path, or an already-parsed mapping; raises ``CanarySpecError``.

    ``mesh_provider`` is Flagger's ``-mesh-provider``: the provider of a Canary without ``spec.provider``.
    """
    docs, file = source_documents(document, source)
    canaries = [d for d in docs if isinstance(d.data, Mapping) and d.data.get("kind") == "Canary"]
    if not canaries:
        kinds = sorted({str(d.data.get("kind")) for d in docs if isinstance(d.data, Mapping)})
        raise CanarySpecError([Problem("kind", "a document with kind: Canary", f"kinds {kinds}", file, None)])
    if len(canaries) > 1:
        where = canaries[1].lines.get(("kind",))
        raise CanarySpecError(
            [Problem("kind", "exactly one Canary document", f"{len(canaries)}", file, where)]
        )
    return _CanaryParser(canaries[0], file, default_namespace, mesh_provider).parse()


# ---- Canary ------------------------------------------------------------------------------------------
def effective_interval(raw: str | None) -> float:
    """``GetAnalysisInterval``: empty/unparsable → 60 s; < 10 s → 10 s."""
    if not raw:
        return DEFAULT_INTERVAL_SECONDS
    try:
        seconds = parse_go_duration(raw)
    except ValueError:
        return DEFAULT_INTERVAL_SECONDS
    return max(seconds, MIN_INTERVAL_SECONDS)


class _CanaryParser:
    def __init__(self, doc: Document, file: str | None, default_namespace: str, mesh_provider: str) -> None:
        self.mesh_provider = mesh_provider
        self.data = cast(Mapping[str, Any], doc.data)
        self.r = FieldReader(file, doc.lines)
        self.file = file
        self.default_namespace = default_namespace

    def parse(self) -> CanarySpec:
        r, data = self.r, self.data
        api_version = r.get(data, ("apiVersion",), as_str, "a string", required=True)
        if api_version is not None and api_version != API_VERSION:
            r.add(("apiVersion",), repr(API_VERSION), repr(api_version))
        metadata = r.get(data, ("metadata",), as_mapping, "a mapping with name", required=True) or {}
        name = r.get(metadata, ("metadata", "name"), as_str, "a string", required=True) or ""
        namespace = r.get(metadata, ("metadata", "namespace"), as_str, "a string") or self.default_namespace
        spec = r.get(data, ("spec",), as_mapping, "a mapping", required=True) or {}
        target_kind, target_name = self._target_ref(spec)
        service_name, port, target_port = self._service(spec, target_name)
        provider = r.get(spec, ("spec", "provider"), one_of(*PROVIDERS), f"one of {list(PROVIDERS)}")
        deadline = r.get(spec, ("spec", "progressDeadlineSeconds"), as_int32, INT32, default=600)
        analysis = self._analysis(spec)
        result = CanarySpec(
            name=name,
            namespace=namespace,
            target_kind=target_kind,
            target_name=target_name,
            service_name=service_name,
            service_port=port,
            service_target_port=target_port,
            provider=provider or self.mesh_provider,  # "" means Flagger's global -mesh-provider
            progress_deadline_seconds=deadline if deadline is not None else 600,
            skip_analysis=bool(r.get(spec, ("spec", "skipAnalysis"), as_bool, "a boolean", default=False)),
            suspend=bool(r.get(spec, ("spec", "suspend"), as_bool, "a boolean", default=False)),
            analysis=analysis,
            metrics_server=r.get(spec, ("spec", "metricsServer"), as_str, "a string", default="") or "",
            ingress_ref_name=self._ref_name(spec, "ingressRef"),
            route_ref_name=self._ref_name(spec, "routeRef"),
            autoscaler_ref=self._autoscaler_ref(spec),
            revert_on_deletion=bool(
                r.get(spec, ("spec", "revertOnDeletion"), as_bool, "a boolean", default=False)
            ),
            manifest=dict(data),
            source=self.file,
        )
        r.raise_if_any()
        return result

    def _target_ref(self, spec: Mapping[str, Any]) -> tuple[str, str]:
        r = self.r
        ref = r.get(
            spec, ("spec", "targetRef"), as_mapping, "a mapping {apiVersion, kind, name}", required=True
        )
        if ref is None:
            return "Deployment", ""
        path: FieldPath = ("spec", "targetRef")
        r.get(ref, (*path, "apiVersion"), as_str, "a string", required=True)
        kind = r.get(
            ref,
            (*path, "kind"),
            one_of("DaemonSet", "Deployment", "Service"),
            "one of ['DaemonSet', 'Deployment', 'Service']",
            required=True,
        )
        name = r.get(ref, (*path, "name"), as_str, "a string", required=True)
        return kind or "Deployment", name or ""

    def _service(self, spec: Mapping[str, Any], target_name: str) -> tuple[str, int, int | str | None]:
        r = self.r
        service = r.get(spec, ("spec", "service"), as_mapping, "a mapping with port", required=True) or {}
        port = r.get(service, ("spec", "service", "port"), as_port, PORT, required=True)
        name = r.get(service, ("spec", "service", "name"), as_str, "a string") or target_name
        target_port: int | str | None = None
        raw = service.get("targetPort")
        if raw is not None:
            target_port = as_port(raw) if not isinstance(raw, str) else raw
            if target_port is None:
                r.add(("spec", "service", "targetPort"), f"{PORT} or a port name", describe(raw))
        return name, port or 0, target_port

    def _ref_name(self, spec: Mapping[str, Any], key: str) -> str | None:
        ref = self.r.get(spec, ("spec", key), as_mapping, "a mapping with name")
        if ref is None:
            return None
        return self.r.get(ref, ("spec", key, "name"), as_str, "a string", required=True)

    def _autoscaler_ref(self, spec: Mapping[str, Any]) -> tuple[str, str] | None:
        ref = self.r.get(spec, ("spec", "autoscalerRef"), as_mapping, "a mapping {apiVersion, kind, name}")
        if ref is None:
            return None
        kind = self.r.get(ref, ("spec", "autoscalerRef", "kind"), as_str, "a string", default="") or ""
        name = self.r.get(ref, ("spec", "autoscalerRef", "name"), as_str, "a string", required=True) or ""
        return kind, name

    # ---- analysis ------------------------------------------------------------------------------------
    def _analysis(self, spec: Mapping[str, Any]) -> AnalysisSpec:
        r = self.r
        path: FieldPath = ("spec", "analysis")
        a = r.get(spec, path, as_mapping, "a mapping (the CRD requires analysis)", required=True)
        if a is None:
            return AnalysisSpec()
        self._one_of(a, path)
        interval_raw = r.get(
            a,
            (*path, "interval"),
            matching(DURATION_PATTERN),
            "a duration matching ^[0-9]+(m|s), e.g. '1m' or '30s'",
        )
        threshold = r.get(a, (*path, "threshold"), as_int32, INT32, default=0) or 0

        def integer(key: str, default: int) -> int:
            value = r.get(a, (*path, key), as_int32, INT32, default=default)
            return default if value is None else value

        step_weights: list[int] = []
        for index, item in enumerate(r.get(a, (*path, "stepWeights"), as_list, "a list of integers") or []):
            value = as_int32(item)
            if value is None:
                r.add((*path, "stepWeights", index), INT32, describe(item))
            else:
                step_weights.append(value)
        match = r.get(a, (*path, "match"), as_list, "a list of match conditions") or []
        return AnalysisSpec(
            interval_seconds=effective_interval(interval_raw),
            interval_raw=interval_raw,
            threshold=threshold if threshold > 0 else 1,
            max_weight=integer("maxWeight", 0),
            step_weight=integer("stepWeight", 0),
            step_weights=tuple(step_weights),
            step_weight_promotion=integer("stepWeightPromotion", 0),
            iterations=integer("iterations", 0),
            match=tuple(match),
            mirror=bool(r.get(a, (*path, "mirror"), as_bool, "a boolean", default=False)),
            mirror_weight=integer("mirrorWeight", 0),
            primary_ready_threshold=integer("primaryReadyThreshold", 100),
            canary_ready_threshold=integer("canaryReadyThreshold", 100),
            metrics=tuple(self._items(a, (*path, "metrics"), self._metric)),
            webhooks=tuple(self._items(a, (*path, "webhooks"), self._webhook)),
            alerts=tuple(self._items(a, (*path, "alerts"), self._alert)),
        )

    def _one_of(self, a: Mapping[str, Any], path: FieldPath) -> None:
        """The CRD's ``oneOf`` of {interval, threshold} + one of iterations/stepWeight/stepWeights."""
        present = [k for k in STRATEGY_KEYS if a.get(k) is not None]
        missing = [k for k in ("interval", "threshold") if a.get(k) is None]
        expected = "interval, threshold and exactly one of iterations, stepWeight or stepWeights (CRD oneOf)"
        if missing:
            self.r.add(path, expected, f"no {' and no '.join(missing)}")
        if not present:
            self.r.add(path, expected, "none of iterations, stepWeight, stepWeights")
        elif len(present) > 1:
            self.r.add(
                (*path, present[1]),
                expected,
                f"both {' and '.join(present)}",
                hint="the API server rejects a Canary matching more than one oneOf branch",
            )

    def _items(self, a: Mapping[str, Any], path: FieldPath, parse: Any) -> list[Any]:
        items = self.r.get(a, path, as_list, "a list") or []
        out = []
        for index, item in enumerate(items):
            if not isinstance(item, Mapping):
                self.r.add((*path, index), "a mapping", describe(item))
                continue
            parsed = parse(item, (*path, index))
            if parsed is not None:
                out.append(parsed)
        return out

    def _metric(self, m: Mapping[str, Any], path: FieldPath) -> MetricSpec | None:
        r = self.r
        name = r.get(m, (*path, "name"), as_str, "a string", required=True)
        interval = r.get(
            m, (*path, "interval"), matching(DURATION_PATTERN), "a duration matching ^[0-9]+(m|s)"
        )
        bounds = r.get(m, (*path, "thresholdRange"), as_mapping, "a mapping {min, max}")
        threshold_range = None
        if bounds is not None:
            low = r.get(bounds, (*path, "thresholdRange", "min"), as_number, "a finite number")
            high = r.get(bounds, (*path, "thresholdRange", "max"), as_number, "a finite number")
            threshold_range = ThresholdRange(low, high)
        ref = r.get(m, (*path, "templateRef"), as_mapping, "a mapping {name, namespace}")
        template_ref = None
        if ref is not None:
            ref_name = r.get(ref, (*path, "templateRef", "name"), as_str, "a string", required=True)
            ref_ns = r.get(ref, (*path, "templateRef", "namespace"), as_str, "a string")
            template_ref = (ref_name or "", ref_ns or None)
        if name is None:
            return None
        return MetricSpec(
            name=name,
            interval=interval,
            threshold_range=threshold_range,
            threshold=r.get(m, (*path, "threshold"), as_number, "a finite number"),
            query=r.get(m, (*path, "query"), as_str, "a string") or None,
            template_ref=template_ref,
            template_variables=r.get(
                m, (*path, "templateVariables"), as_str_map, "a map of strings", default=()
            )
            or (),
        )

    def _webhook(self, w: Mapping[str, Any], path: FieldPath) -> WebhookSpec | None:
        r = self.r
        name = r.get(w, (*path, "name"), as_str, "a string", required=True)
        url = r.get(w, (*path, "url"), as_str, "a URL string", required=True)
        hook_type = r.get(w, (*path, "type"), one_of(*HOOK_TYPES), f"one of {list(HOOK_TYPES)}", default="")
        timeout_raw = r.get(
            w, (*path, "timeout"), matching(DURATION_PATTERN), "a duration matching ^[0-9]+(m|s)"
        )
        timeout = DEFAULT_WEBHOOK_TIMEOUT_SECONDS
        if timeout_raw is not None and len(timeout_raw) >= 2:  # CallWebhook: len(timeout) < 2 → "10s"
            try:
                timeout = parse_go_duration(timeout_raw)
            except ValueError as exc:
                r.add(
                    (*path, "timeout"),
                    "a Go duration",
                    repr(timeout_raw),
                    hint=f"Flagger would fail every call of this hook: {exc}",
                )
        retries = r.get(w, (*path, "retries"), as_int32, INT32, default=0)
        if name is None or url is None:
            return None
        return WebhookSpec(
            name=name,
            url=url,
            type=cast(WebhookType, hook_type or "rollout"),
            timeout_seconds=timeout,
            retries=max(retries or 0, 0),
            metadata=r.get(w, (*path, "metadata"), as_str_map, "a map of strings", default=()) or (),
            mute_alert=bool(r.get(w, (*path, "muteAlert"), as_bool, "a boolean", default=False)),
            disable_tls=bool(r.get(w, (*path, "disableTLS"), as_bool, "a boolean", default=False)),
        )

    def _alert(self, a: Mapping[str, Any], path: FieldPath) -> AlertSpec | None:
        r = self.r
        name = r.get(a, (*path, "name"), as_str, "a string", required=True)
        severity = r.get(
            a,
            (*path, "severity"),
            one_of("", "info", "warn", "error"),
            "one of ['', 'info', 'warn', 'error']",
            default="",
        )
        ref = r.get(a, (*path, "providerRef"), as_mapping, "a mapping {name, namespace}", required=True)
        if ref is None or name is None:
            return None
        provider = r.get(ref, (*path, "providerRef", "name"), as_str, "a string", required=True) or ""
        provider_ns = r.get(ref, (*path, "providerRef", "namespace"), as_str, "a string")
        return AlertSpec(name, provider, provider_ns, cast(Any, severity or ""))

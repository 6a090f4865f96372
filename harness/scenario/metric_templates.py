"""Load Flagger ``MetricTemplate`` documents (``flagger.app/v1beta1``) into ``MetricTemplate`` (pure).

Only what the analysis renders is read: ``metadata.name`` / ``namespace``, ``spec.provider.type`` /
``address`` and ``spec.query``; other fields are ignored. A Canary file may carry its templates as extra
documents (``scenarios/canaries/faulty-app-linkerd.yaml``); the Canary itself is
``harness.scenario.flagger_canary``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from harness.controllers.flagger.queries import MetricTemplate
from harness.scenario.yamldocs import (
    Document,
    DocumentSource,
    FieldReader,
    as_mapping,
    as_str,
    source_documents,
)


def load_metric_templates(path: str | Path, *, default_namespace: str = "") -> tuple[MetricTemplate, ...]:
    """Every ``kind: MetricTemplate`` document of a file (none is fine)."""
    return parse_metric_templates(Path(path), default_namespace=default_namespace)


def parse_metric_templates(
    document: DocumentSource, source: str | None = None, *, default_namespace: str = ""
) -> tuple[MetricTemplate, ...]:
    """MetricTemplates from YAML text, a path or a mapping; ``namespace`` "" = the Canary's namespace."""
    docs, file = source_documents(document, source)
    templates = []
    for doc in docs:
        if isinstance(doc.data, Mapping) and doc.data.get("kind") == "MetricTemplate":
            templates.append(_parse_template(doc, file, default_namespace))
    return tuple(templates)


def _parse_template(doc: Document, file: str | None, default_namespace: str) -> MetricTemplate:
    r = FieldReader(file, doc.lines)
    data = doc.data
    metadata = r.get(data, ("metadata",), as_mapping, "a mapping", required=True) or {}
    name = r.get(metadata, ("metadata", "name"), as_str, "a string", required=True) or ""
    namespace = r.get(metadata, ("metadata", "namespace"), as_str, "a string", default=default_namespace)
    spec = r.get(data, ("spec",), as_mapping, "a mapping", required=True) or {}
    provider = r.get(spec, ("spec", "provider"), as_mapping, "a mapping") or {}
    provider_type = r.get(provider, ("spec", "provider", "type"), as_str, "a string", default="")
    address = r.get(provider, ("spec", "provider", "address"), as_str, "a string", default="")
    query = r.get(spec, ("spec", "query"), as_str, "a string", default="")
    r.raise_if_any()
    return MetricTemplate(name, namespace or "", provider_type or "", address or "", query or "")

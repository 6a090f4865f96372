"""Safety rails for real clusters (pure decisions; the sweep acts through the ``ClusterApi`` port).

1. Only kube contexts in an allowlist are touched (``~/.config/canary-chaos/contexts.yaml`` and/or
   ``--context-allow`` values).
2. Only namespaces the harness created are written to or deleted: they carry
   ``app.kubernetes.io/managed-by=canary-chaos`` and a run id, checked before every write and delete.
3. Every harness namespace carries an expiry (epoch seconds in a label, ISO time in an annotation), so
   ``sweep_expired`` can delete what a crashed run left behind — and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from harness.backends.kubernetes.api import ClusterApi, NamespaceInfo
from harness.errors import LocatedInputError, SafetyError
from harness.scenario.yamlloc import load_located

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "canary-chaos"
RUN_ID_LABEL = "canary-chaos.io/run-id"
EXPIRES_LABEL = "canary-chaos.io/expires-at"  # integer epoch seconds (label values cannot hold ':')
EXPIRES_ANNOTATION = "canary-chaos.io/expires-at-iso"
OWNED_SELECTOR = f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"
DEFAULT_CONTEXTS_FILE = Path("~/.config/canary-chaos/contexts.yaml")
DEFAULT_TTL_SECONDS = 6 * 3600

_RUN_ID = re.compile(r"[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?")


# -- contexts ------------------------------------------------------------------------------------------
def load_allowed_contexts(path: Path = DEFAULT_CONTEXTS_FILE) -> tuple[str, ...]:
    """Read ``contexts: [name, ...]`` (or a bare list) from the config file; missing file → empty."""
    file = path.expanduser()
    if not file.exists():
        return ()
    try:
        data = load_located(file, error=LocatedInputError).data  # size, alias-bomb and depth limits
    except LocatedInputError as exc:
        raise SafetyError(f"{file}: cannot read the context allowlist: {exc}") from exc
    names = data.get("contexts") if isinstance(data, dict) else data
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise SafetyError(f"{file}: expected 'contexts: [name, ...]', found {data!r}")
    return tuple(names)


def check_context(context: str, allowed: Iterable[str]) -> None:
    """Refuse any context that is not explicitly allowed (an empty allowlist refuses everything)."""
    allowed_set = set(allowed)
    if context not in allowed_set:
        listed = ", ".join(sorted(allowed_set)) or "none"
        raise SafetyError(
            f"kube context {context!r} is not allowlisted (allowed: {listed}); add it with "
            f"--context-allow {context} or in {DEFAULT_CONTEXTS_FILE}"
        )


# -- namespace ownership -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ownership:
    """The labels and annotations that mark a namespace as created by one harness run."""

    run_id: str
    expires_at: float  # epoch seconds

    def labels(self) -> dict[str, str]:
        return {
            MANAGED_BY_LABEL: MANAGED_BY_VALUE,
            RUN_ID_LABEL: self.run_id,
            EXPIRES_LABEL: str(int(self.expires_at)),
        }

    def annotations(self) -> dict[str, str]:
        return {EXPIRES_ANNOTATION: datetime.fromtimestamp(self.expires_at, UTC).isoformat()}


def new_ownership(run_id: str, now_epoch: float, ttl_seconds: float = DEFAULT_TTL_SECONDS) -> Ownership:
    if not _RUN_ID.fullmatch(run_id):
        raise SafetyError(f"run id {run_id!r} is not a valid label value (lowercase alphanumerics and '-')")
    if ttl_seconds <= 0:
        raise SafetyError(f"namespace TTL must be > 0 s, got {ttl_seconds}")
    return Ownership(run_id=run_id, expires_at=now_epoch + ttl_seconds)


def is_owned(ns: NamespaceInfo, run_id: str | None = None) -> bool:
    """True when the namespace carries our managed-by label (and, if given, this run's id)."""
    if ns.labels.get(MANAGED_BY_LABEL) != MANAGED_BY_VALUE or RUN_ID_LABEL not in ns.labels:
        return False
    return run_id is None or ns.labels.get(RUN_ID_LABEL) == run_id


def ensure_owned(ns: NamespaceInfo | None, name: str, run_id: str | None = None) -> NamespaceInfo:
    """Raise ``SafetyError`` unless ``ns`` exists and is ours; call before every write or delete."""
    if ns is None:
        raise SafetyError(f"namespace {name!r} does not exist; refusing to act on it")
    if not is_owned(ns, run_id):
        wanted = f"{OWNED_SELECTOR}" + (f", {RUN_ID_LABEL}={run_id}" if run_id else "")
        raise SafetyError(
            f"namespace {name!r} was not created by this harness run (expected labels {wanted}, "
            f"found {dict(ns.labels)}); refusing to touch it"
        )
    return ns


def expires_at(ns: NamespaceInfo) -> float | None:
    raw = ns.labels.get(EXPIRES_LABEL, "")
    return float(raw) if raw.isdigit() else None


def select_expired(namespaces: Sequence[NamespaceInfo], now_epoch: float) -> list[str]:
    """Names of harness-owned namespaces whose expiry has passed (no expiry label → never expired)."""
    chosen = []
    for ns in namespaces:
        deadline = expires_at(ns)
        if is_owned(ns) and deadline is not None and deadline <= now_epoch and ns.phase != "Terminating":
            chosen.append(ns.name)
    return chosen


def sweep_expired(api: ClusterApi, now_epoch: float, allowed_contexts: Iterable[str]) -> list[str]:
    """Delete expired harness namespaces in an allowlisted context; return the deleted names."""
    check_context(api.current_context(), allowed_contexts)
    deleted = []
    for name in select_expired(api.list_namespaces(OWNED_SELECTOR), now_epoch):
        ensure_owned(api.get_namespace(name), name)  # re-read: labels may have changed since listing
        api.delete_namespace(name)
        deleted.append(name)
    return deleted


def merge_allowlists(cli_values: Sequence[str], config_values: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*cli_values, *config_values]))


def describe_labels(labels: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))

"""One time scale on both backends: the Canary a cluster runs at ``--time-scale S`` (pure).

Locally, the run clock is sped up ``S`` times and the Flagger emulation reads emulated seconds. A real
Flagger reads real seconds, so on a cluster the same experiment is obtained by dividing every duration
Flagger reads by ``S``: ``analysis.interval``, each metric's ``interval`` (its PromQL window),
``progressDeadlineSeconds`` and webhook timeouts. The harness clock then runs at ``S`` as in local mode,
so scenario timing (warm-up, recovery, fault windows) and expectations keep their emulated values and
scale with it. Request latencies are never scaled (the network does not speed up).

A scale is refused (``CanarySpecError``, exit 2, naming the field) when Flagger or Prometheus would run
a different experiment than the one scaled: an interval below Flagger's 10 s minimum (Flagger raises it
to 10 s, flagger-semantics §1.1), or a metric window shorter than 3 scrape intervals (``rate()`` over
fewer than three samples sees a fault late or not at all, §3.2).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.controllers.flagger.gofmt import parse_go_duration
from harness.durations import format_duration
from harness.errors import CanarySpecError, Problem
from harness.plan.model import DEFAULT_SCRAPE_INTERVAL
from harness.scenario.flagger_canary import (
    DEFAULT_INTERVAL_SECONDS,
    DEFAULT_WEBHOOK_TIMEOUT_SECONDS,
    MIN_INTERVAL_SECONDS,
)

DEFAULT_METRIC_WINDOW_SECONDS = 60.0  # builtin/inline metrics without ``interval`` (§5.4)
DEFAULT_PROGRESS_DEADLINE_SECONDS = 600
SCRAPES_PER_WINDOW = 3
MIN_WEBHOOK_TIMEOUT_SECONDS = 1.0  # a hook on the cluster network still needs time to answer
# The nightly's scale: Flagger's own e2e tests run with interval 15s, which is the catalog's 1m / 4.
DEFAULT_CLUSTER_TIME_SCALE = 4.0


@dataclass(frozen=True)
class ScaledField:
    """One Canary field rewritten for the cluster: ``before`` (as in the scenario) → ``after``."""

    path: str
    before: str
    after: str


@dataclass(frozen=True)
class ClusterCanary:
    """The Canary as applied on a cluster at ``scale``, and what was rewritten to get it."""

    manifest: Mapping[str, Any]
    scale: float
    scrape_interval_seconds: float
    changes: tuple[ScaledField, ...]

    def to_data(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "scrape_interval_seconds": self.scrape_interval_seconds,
            "changes": [{"path": c.path, "before": c.before, "after": c.after} for c in self.changes],
            "manifest": copy.deepcopy(dict(self.manifest)),
        }


def go_duration(seconds: float) -> str:
    """A duration Flagger's CRD pattern ``^[0-9]+(m|s)`` and Go's parser both accept: ``15s``, ``7500ms``."""
    millis = round(seconds * 1000)
    return f"{millis // 1000}s" if millis % 1000 == 0 else f"{millis}ms"


def scale_canary(
    manifest: Mapping[str, Any],
    scale: float,
    *,
    scrape_interval: float = DEFAULT_SCRAPE_INTERVAL,
    source: str | None = None,
) -> ClusterCanary:
    """The cluster Canary for ``manifest`` at ``scale``; raises ``CanarySpecError`` for a refused scale."""
    if not (scale > 0 and math.isfinite(scale)):
        raise CanarySpecError([Problem("--time-scale", "a finite number > 0", repr(scale), file=source)])
    out: dict[str, Any] = copy.deepcopy(dict(manifest))
    spec = out.setdefault("spec", {})
    analysis = spec.setdefault("analysis", {})
    changes: list[ScaledField] = []
    problems: list[Problem] = []
    why = f"at --time-scale {scale:g}"

    interval = _seconds(analysis.get("interval"), DEFAULT_INTERVAL_SECONDS)
    scaled_interval = interval / scale
    if scaled_interval < MIN_INTERVAL_SECONDS:
        problems.append(
            Problem(
                "spec.analysis.interval",
                f"a scaled interval ≥ Flagger's minimum {format_duration(MIN_INTERVAL_SECONDS)} "
                f"(Flagger would raise it and run a different experiment; use --time-scale ≤ "
                f"{interval / MIN_INTERVAL_SECONDS:g})",
                f"{format_duration(interval)} becomes {format_duration(scaled_interval)} {why}",
                file=source,
            )
        )
    _rewrite(analysis, "interval", "spec.analysis.interval", interval, scale, changes)

    min_window = SCRAPES_PER_WINDOW * scrape_interval
    for index, metric in enumerate(analysis.get("metrics") or []):
        if not isinstance(metric, dict):
            continue
        path = f"spec.analysis.metrics[{index}].interval"
        uses_template = "templateRef" in metric
        if "interval" not in metric and uses_template:
            continue  # renders {{ interval }} empty on Flagger too (§5.4): nothing to scale
        window = _seconds(metric.get("interval"), DEFAULT_METRIC_WINDOW_SECONDS)
        if window / scale < min_window:
            problems.append(
                Problem(
                    f"{path} ({metric.get('name', '?')})",
                    f"a scaled metric window ≥ {SCRAPES_PER_WINDOW} × the Prometheus scrape interval "
                    f"{format_duration(scrape_interval)} = {format_duration(min_window)} (use --time-scale ≤ "
                    f"{window / min_window:g})",
                    f"{format_duration(window)} becomes {format_duration(window / scale)} {why}",
                    file=source,
                )
            )
        _rewrite(metric, "interval", path, window, scale, changes)

    for index, hook in enumerate(analysis.get("webhooks") or []):
        if isinstance(hook, dict) and hook.get("type") != "event":  # event hooks are fire-and-forget
            timeout = _seconds(hook.get("timeout"), DEFAULT_WEBHOOK_TIMEOUT_SECONDS)
            scaled = max(timeout / scale, min(timeout, MIN_WEBHOOK_TIMEOUT_SECONDS))
            path = f"spec.analysis.webhooks[{index}].timeout"
            _rewrite(hook, "timeout", path, timeout, timeout / scaled, changes)

    deadline = int(spec.get("progressDeadlineSeconds", DEFAULT_PROGRESS_DEADLINE_SECONDS))
    scaled_deadline = max(1, math.ceil(deadline / scale))
    if scaled_deadline != deadline:
        before = str(spec.get("progressDeadlineSeconds", f"{DEFAULT_PROGRESS_DEADLINE_SECONDS} (default)"))
        spec["progressDeadlineSeconds"] = scaled_deadline
        changes.append(ScaledField("spec.progressDeadlineSeconds", before, str(scaled_deadline)))
    if problems:
        raise CanarySpecError(problems)
    return ClusterCanary(out, float(scale), float(scrape_interval), tuple(changes))


def max_cluster_scale(manifest: Mapping[str, Any], scrape_interval: float = DEFAULT_SCRAPE_INTERVAL) -> float:
    """The largest scale ``scale_canary`` accepts for ``manifest``."""
    analysis = manifest.get("spec", {}).get("analysis", {}) or {}
    limits = [_seconds(analysis.get("interval"), DEFAULT_INTERVAL_SECONDS) / MIN_INTERVAL_SECONDS]
    for metric in analysis.get("metrics") or []:
        if isinstance(metric, dict) and ("interval" in metric or "templateRef" not in metric):
            window = _seconds(metric.get("interval"), DEFAULT_METRIC_WINDOW_SECONDS)
            limits.append(window / (SCRAPES_PER_WINDOW * scrape_interval))
    return min(limits)


def _seconds(raw: object, default: float) -> float:
    if raw is None or raw == "":
        return default
    try:
        return parse_go_duration(str(raw))
    except ValueError:
        return default  # the spec loader has already refused unparsable durations where they matter


def _rewrite(
    target: dict[str, Any], key: str, path: str, seconds: float, divisor: float, changes: list[ScaledField]
) -> None:
    """Set ``target[key]`` to ``seconds / divisor``; an unchanged duration keeps its text (or absence)."""
    value = go_duration(seconds / divisor)
    if go_duration(seconds) == value:
        return
    before = target.get(key)
    target[key] = value
    changes.append(ScaledField(path, "(default)" if before is None else str(before), value))


def describe_changes(changes: Sequence[ScaledField]) -> list[str]:
    """``path: before → after`` lines for the report."""
    return [f"{c.path}: {c.before} → {c.after}" for c in changes]

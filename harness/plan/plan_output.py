"""What both planners (Flagger's ``planner``, Argo Rollouts' ``rollout``) give out the same way: the
reasons a plan is refused (each failed limit and each error trap) and the plan as JSON-safe data.

Pure: dataclasses in, text and plain data out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from harness.durations import format_duration
from harness.plan.model import LimitCheck, Trap


def refusal_reasons(limits: Sequence[LimitCheck], traps: Sequence[Trap]) -> tuple[str, ...]:
    """One line per failed limit (predicted > limit), then one per trap of severity error."""
    return tuple(
        [
            f"{c.name}: predicted {_show(c.predicted, c.unit)} > limit {_show(c.limit, c.unit)}"
            for c in limits
            if not c.passed
        ]
        + [f"trap {t.code}: {t.message}" for t in traps if t.severity == "error"]
    )


def plan_json(plan: Any) -> dict[str, Any]:
    """A plan dataclass as JSON-safe data (non-finite numbers → null, tuples → lists)."""
    data = _clean(asdict(plan))
    assert isinstance(data, dict)
    return data


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _show(value: float | None, unit: str) -> str:
    if value is None or not math.isfinite(value):
        return "never"
    if unit == "s":
        return format_duration(round(value, 3))
    return f"{value:.2%}" if unit == "" else f"{value:g} {unit}"

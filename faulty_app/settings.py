"""The environment contract: APP_VERSION, FAULTS, ADMIN_TOKEN, TIME_SCALE (and FAULT_SEED)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from faulty_app.config import Fault, FaultProblem, load_faults_text

_VERSION = re.compile(r"^[\x21-\x7e]{1,128}$")  # visible ASCII: safe in a header and a label
MAX_TIME_SCALE = 100_000.0


class SettingsError(ValueError):
    """An environment variable other than FAULTS is invalid."""

    def __init__(self, source: str, expected: str, found: str) -> None:
        self.problems = (FaultProblem("", expected, found),)
        self.source = source
        super().__init__(self.problems[0].render(source))


@dataclass(frozen=True)
class AppSettings:
    """Everything the app reads from its environment, validated."""

    version: str = "dev"
    faults: tuple[Fault, ...] = ()
    admin_token: str | None = None  # None: /admin/faults answers 404
    time_scale: float = 1.0
    seed: int | None = None  # FAULT_SEED: reproducible fault draws


def settings_from_env(env: Mapping[str, str]) -> AppSettings:
    """Validate the environment; raise ``FaultConfigError`` or ``SettingsError`` (exit code 2)."""
    version = env.get("APP_VERSION", "dev")
    if not _VERSION.match(version):
        raise SettingsError("APP_VERSION", "1 to 128 visible ASCII characters", repr(version)[:80])
    return AppSettings(
        version=version,
        faults=load_faults_text(env.get("FAULTS", ""), "FAULTS"),
        admin_token=env.get("ADMIN_TOKEN") or None,
        time_scale=_time_scale(env.get("TIME_SCALE", "1")),
        seed=_seed(env.get("FAULT_SEED", "")),
    )


def _time_scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (0 < value <= MAX_TIME_SCALE):
        raise SettingsError("TIME_SCALE", f"a number > 0 and ≤ {MAX_TIME_SCALE:g}", repr(text)[:80])
    return value


def _seed(text: str) -> int | None:
    if not text.strip():
        return None
    try:
        return int(text)
    except ValueError:
        raise SettingsError("FAULT_SEED", "an integer", repr(text)[:80]) from None

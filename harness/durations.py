"""Durations as people write them in scenario files: ``90s``, ``5m``, ``1m30s``, ``1h``, ``250ms``.

Plain numbers (int or float, or a string holding only a number) are seconds. Units follow Go's
``time.ParseDuration`` (``ms``, ``s``, ``m``, ``h``), which is also what Flagger accepts.
"""

from __future__ import annotations

import math
import re

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h)")
_NUMBER = re.compile(r"\d+(?:\.\d*)?|\.\d+")

DURATION_EXPECTED = "a duration such as '90s', '5m', '1m30s' or a number of seconds ≥ 0"


class DurationError(ValueError):
    """The value is not a duration we understand."""


def parse_duration(value: object) -> float:
    """Return seconds (≥ 0) for a number or a Go-style duration string; raise ``DurationError``."""
    if isinstance(value, bool):
        raise DurationError(f"{value!r} is a boolean, not a duration")
    if isinstance(value, int | float):
        return _non_negative(float(value), value)
    if not isinstance(value, str):
        raise DurationError(f"{value!r} is not a duration")
    text = value.strip()
    if _NUMBER.fullmatch(text):
        return _non_negative(float(text), value)
    return _non_negative(_parse_units(text, value), value)


def _parse_units(text: str, original: str) -> float:
    position, total = 0, 0.0
    for match in _PART.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position == 0 or position != len(text):
        raise DurationError(f"{original!r} is not a duration")
    return total


def _non_negative(seconds: float, original: object) -> float:
    if not math.isfinite(seconds) or seconds < 0:
        raise DurationError(f"{original!r} is not a finite duration ≥ 0")
    return seconds


def format_duration(seconds: float) -> str:
    """Render seconds compactly: 90 → '1m30s', 0.5 → '500ms', 3600 → '1h'."""
    if seconds < 1 and seconds > 0:
        return f"{round(seconds * 1000)}ms"
    whole = round(seconds)
    if abs(seconds - whole) > 1e-9:
        return f"{seconds:g}s"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "") + (f"{secs}s" if secs else "")
    return text or "0s"


def format_clock(seconds: float) -> str:
    """mm:ss (or h:mm:ss) for emulated seconds; negative values get a sign."""
    sign = "-" if seconds < 0 else ""
    total = int(abs(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}" if hours else f"{sign}{minutes}:{secs:02d}"

"""Go formatting and parsing rules Flagger's messages depend on (pure).

- ``parse_go_duration``: ``time.ParseDuration`` ("1m30s", "500ms", "1.5h"; no bare numbers but "0").
- ``go_duration_string``: ``time.Duration.String()`` ("1.191s", "500ms", "1m0s").
- ``go_float_v``: ``fmt`` ``%v`` of a float64 (shortest digits; ``%e`` form for exponents ≥ 6 or < -4).
- ``go_fixed``: ``fmt`` ``%.Nf`` (``+Inf``/``NaN`` spelled the Go way).
- ``fnv32a`` and ``safe_encode``: the pieces of Flagger's ``ComputeHash``.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

NANOSECOND = 1
MICROSECOND = 1_000
MILLISECOND = 1_000_000
SECOND = 1_000_000_000

_UNITS = {
    "ns": NANOSECOND,
    "us": MICROSECOND,
    "µs": MICROSECOND,  # U+00B5
    "μs": MICROSECOND,  # U+03BC
    "ms": MILLISECOND,
    "s": SECOND,
    "m": 60 * SECOND,
    "h": 3600 * SECOND,
}
_COMPONENT = re.compile(r"(\d*)(?:\.(\d*))?([^\d.]+)")
_MAX_INT64 = 2**63 - 1


def parse_go_duration_ns(text: str) -> int:
    """Nanoseconds of a Go duration string; ``ValueError`` with Go's message when invalid."""
    original = text
    invalid = ValueError(f'time: invalid duration "{original}"')
    sign = -1 if text.startswith("-") else 1
    if text[:1] in "+-" and text:
        text = text[1:]
    if text == "0":
        return 0
    if not text:
        raise invalid
    total = 0
    pos = 0
    while pos < len(text):
        match = _COMPONENT.match(text, pos)
        if match is None:
            raise invalid
        whole, frac, unit = match.group(1), match.group(2), match.group(3)
        if not whole and not frac:
            raise invalid
        if unit not in _UNITS:
            raise ValueError(f'time: unknown unit "{unit}" in duration "{original}"')
        scale = _UNITS[unit]
        value = Decimal(whole or "0") + (Decimal(f"0.{frac}") if frac else Decimal(0))
        total += int(value * scale)  # Go truncates the fractional nanoseconds
        if total > _MAX_INT64:
            raise invalid
        pos = match.end()
    return sign * total


def parse_go_duration(text: str) -> float:
    """Seconds of a Go duration string (see ``parse_go_duration_ns``)."""
    return parse_go_duration_ns(text) / SECOND


def _frac(value: int, prec: int) -> tuple[int, str]:
    """Split ``value / 10**prec`` into integer part and ".ddd" without trailing zeros (Go fmtFrac)."""
    if prec == 0:
        return value, ""
    digits = f"{value % 10**prec:0{prec}d}".rstrip("0")
    return value // 10**prec, f".{digits}" if digits else ""


def go_duration_string(nanoseconds: int) -> str:
    """``time.Duration(nanoseconds).String()``."""
    if nanoseconds == 0:
        return "0s"
    sign = "-" if nanoseconds < 0 else ""
    u = abs(nanoseconds)
    if u < SECOND:
        if u < MICROSECOND:
            unit, prec = "ns", 0
        elif u < MILLISECOND:
            unit, prec = "µs", 3
        else:
            unit, prec = "ms", 6
        whole, frac = _frac(u, prec)
        return f"{sign}{whole}{frac}{unit}"
    seconds, frac = _frac(u, 9)
    text = f"{seconds % 60}{frac}s"
    minutes = seconds // 60
    if minutes > 0:
        text = f"{minutes % 60}m{text}"
        hours = minutes // 60
        if hours > 0:
            text = f"{hours}h{text}"
    return sign + text


def millis_duration_ns(value: float) -> int:
    """``time.Duration(value) * time.Millisecond``: float64 → int64 truncates toward zero first."""
    if math.isnan(value):
        return -(2**63)  # Go on amd64 converts NaN/overflow to the minimum int64
    if math.isinf(value) or abs(value) >= 2**63:
        return -(2**63)
    return int(value) * MILLISECOND


def go_float_v(value: float) -> str:
    """``fmt.Sprintf("%v", value)`` for a float64 (strconv 'g', shortest digits)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign, digits_tuple, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digits_tuple)).rstrip("0") or "0"
    trailing = len("".join(map(str, digits_tuple))) - len(digits)
    exponent += trailing
    point = len(digits) + exponent  # position of the decimal point relative to the digits
    exp10 = point - 1
    prefix = "-" if sign else ""
    if exp10 < -4 or exp10 >= 6:  # strconv: shortest 'g' decides with precision 6
        mantissa = digits[0] + (f".{digits[1:]}" if len(digits) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{prefix}{digits}{'0' * (point - len(digits))}"
    return f"{prefix}{digits[:point]}.{digits[point:]}"


def go_fixed(value: float, places: int = 2) -> str:
    """``fmt.Sprintf("%.<places>f", value)``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:.{places}f}"


def fnv32a(data: bytes) -> int:
    """FNV-1a, 32 bit (Go ``hash/fnv.New32a``)."""
    h = 0x811C9DC5
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


_SAFE_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


def safe_encode(text: str) -> str:
    """``k8s.io/apimachinery/pkg/util/rand.SafeEncodeString``."""
    return "".join(_SAFE_ALPHANUMS[ord(ch) % len(_SAFE_ALPHANUMS)] for ch in text)


def compute_hash(text: str) -> str:
    """Flagger's ``ComputeHash`` shape: safe-encoded decimal FNV-32a.

    Flagger hashes a go-spew dump of a Go value; we hash a caller-chosen canonical text instead, so the
    values differ from Flagger's but keep the same form and change exactly when the input changes.
    """
    return safe_encode(str(fnv32a(text.encode())))

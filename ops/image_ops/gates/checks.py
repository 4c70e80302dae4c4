"""A check: one measured number against one threshold, the unit every gate reports in."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Check:
    """`name` says what was measured ("logs.p95_ms[EU]"); `value` None means no evidence,
    which fails: a gate never passes on missing data."""

    name: str
    value: float | None
    threshold: float
    op: str  # "<", "<=", ">=", "=="
    passed: bool
    detail: str = ""

    def line(self) -> str:
        shown = "no data" if self.value is None else _fmt(self.value)
        verdict = "ok  " if self.passed else "FAIL"
        extra = f" ({self.detail})" if self.detail else ""
        return f"{verdict} {self.name} = {shown}, needs {self.op} {_fmt(self.threshold)}{extra}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "threshold": self.threshold,
            "op": self.op,
            "passed": self.passed,
            "detail": self.detail,
        }


_OPS = {
    "<": lambda v, t: v < t,
    "<=": lambda v, t: v <= t,
    ">=": lambda v, t: v >= t,
    "==": lambda v, t: v == t,
}


def check(name: str, value: float | None, op: str, threshold: float, detail: str = "") -> Check:
    passed = value is not None and not math.isnan(value) and bool(_OPS[op](value, threshold))
    return Check(name, value, threshold, op, passed, detail)


def _fmt(value: float) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated quantile (DuckDB's quantile_cont), so probe and logs agree."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None

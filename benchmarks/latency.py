"""Latency summaries the benchmarks print: n, p50, p95 and max in milliseconds."""

from __future__ import annotations

import statistics


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def latency_line(label: str, values_ms: list[float], width: int = 24) -> str:
    """One aligned line: label, count, p50, p95 and max."""
    return (f"{label:<{width}} n={len(values_ms):>5}  p50={statistics.median(values_ms):6.2f} ms  "
            f"p95={percentile(values_ms, 0.95):6.2f} ms  max={max(values_ms):7.2f} ms")

"""Whether a report's alert condition holds for this run's value."""

from __future__ import annotations

import operator
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from reports.model import Alert

__all__ = ["AlertVerdict", "evaluate"]

_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
        "==": operator.eq}


@dataclass(frozen=True)
class AlertVerdict:
    triggered: bool
    reason: str


def evaluate(alert: Alert, value: float | None, trailing: Sequence[float]) -> AlertVerdict:
    """Threshold: the value against a number. Anomaly: the value beyond `k` standard
    deviations of the trailing runs' mean (as payments teams watch fail rates); with fewer
    than 3 trailing values there is no baseline yet, so nothing triggers."""
    if alert.kind == "none":
        return AlertVerdict(True, "no alert condition: always delivered")
    if value is None:
        return AlertVerdict(False, "the result has no number to test")
    if alert.kind == "threshold":
        held = _OPS[alert.op](value, alert.value)
        return AlertVerdict(held, f"{value:g} {alert.op} {alert.value:g} "
                                  f"{'holds' if held else 'does not hold'}")
    history = list(trailing[: alert.trailing])
    if len(history) < 3:
        return AlertVerdict(False, f"only {len(history)} earlier runs: no baseline yet")
    mean = statistics.fmean(history)
    spread = statistics.pstdev(history)
    distance = abs(value - mean)
    held = distance > alert.k * spread if spread > 0 else distance > 0
    return AlertVerdict(held, f"{value:g} against a mean of {mean:g} ± {spread:g} over "
                              f"{len(history)} runs: {'beyond' if held else 'within'} "
                              f"{alert.k:g} standard deviations")

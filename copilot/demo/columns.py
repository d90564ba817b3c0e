"""What every demo table generator shares: the typed columns and tables the writer encodes,
and the vectorised draws the generation rules are written with.

Dates are int64 days since 1970-01-01 and timestamps int64 seconds since the epoch (`DAY`
seconds a day) until the writer encodes them. Each draw takes the caller's
`numpy.random.Generator`, so a build stays deterministic for a seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = [
    "DAY", "Column", "Table", "business_days", "choose", "choose_by_group", "later",
    "lognormal_seconds",
]

DAY = 86_400
ColumnKind = Literal["int", "text", "code", "date", "timestamp", "money", "bool"]


@dataclass(frozen=True, eq=False)
class Column:
    """One column of a generated table, typed so the writer can encode it for SQLite.

    `code` columns hold integer codes into `labels`; `nulls` marks SQL NULLs (True = NULL).
    Dates are days since the epoch, timestamps seconds since the epoch, money integer cents.
    """

    name: str
    kind: ColumnKind
    values: np.ndarray | Sequence[object]
    nulls: np.ndarray | None = None
    labels: Sequence[str] = ()


@dataclass(frozen=True, eq=False)
class Table:
    """A generated table: its name and its columns in the schema's order."""

    name: str
    columns: tuple[Column, ...]

    @property
    def row_count(self) -> int:
        """Number of rows (every column has the same length)."""
        return len(self.columns[0].values)


def choose(rng: np.random.Generator, weights: Sequence[float], size: int) -> np.ndarray:
    """Draw `size` codes 0..len(weights)-1 with the given (unnormalised) weights."""
    cum = np.cumsum(np.asarray(weights, dtype=float))
    codes = np.searchsorted(cum / cum[-1], rng.random(size), side="right")
    return np.minimum(codes, len(cum) - 1)


def choose_by_group(rng: np.random.Generator, groups: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Draw one column code per row from the weight row `table[groups[i]]`.

    side="right" never lands on a zero-weight column, so a zero weight is a hard exclusion.
    """
    cum = np.cumsum(np.asarray(table, dtype=float), axis=1)
    cum /= np.where(cum[:, -1:] > 0, cum[:, -1:], 1.0)
    u = rng.random(len(groups))
    codes = np.zeros(len(groups), dtype=np.int64)
    for group in np.unique(groups):
        mask = groups == group
        codes[mask] = np.searchsorted(cum[group], u[mask], side="right")
    return np.minimum(codes, table.shape[1] - 1)


def lognormal_seconds(rng: np.random.Generator, median: float, sigma: float,
                      size: int) -> np.ndarray:
    """Positive delays in whole seconds, lognormal around `median` seconds."""
    return np.maximum(1, median * np.exp(sigma * rng.standard_normal(size))).astype(np.int64)


def later(rng: np.random.Generator, start: np.ndarray, delay: np.ndarray,
          limit: np.ndarray | int) -> np.ndarray:
    """`start + delay`, squeezed into (start, limit] where the delay would pass the limit.

    The limit is the end of the as-of day: no event may happen after it.
    """
    room = np.maximum(np.asarray(limit, dtype=np.int64) - start, 0)
    squeezed = np.minimum(room, 1 + (room * rng.uniform(0.2, 0.9, len(start))).astype(np.int64))
    return start + np.where(delay <= room, delay, squeezed)


def business_days(days: np.ndarray, offset: int | np.ndarray = 0) -> np.ndarray:
    """Roll each day forward to a weekday, then move `offset` weekdays (vectorised)."""
    moved = np.busday_offset(days.astype("datetime64[D]"), offset, roll="forward")
    return moved.astype(np.int64)

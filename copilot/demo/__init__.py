"""The deterministic OTC demo warehouse (SQLite) behind `python -m copilot demo-db`.

    >>> from copilot.demo import build_demo_warehouse
    >>> summary = build_demo_warehouse(Path("demo.db"), as_of=date(2026, 11, 20))

The same seed, as-of date and trade count always give the same rows.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from types import MappingProxyType

import numpy as np

from copilot.core.errors import DemoDataError
from copilot.demo.columns import Table
from copilot.demo.generator import generate_trades, reference_tables
from copilot.demo.ops_flow import generate_confirmations, generate_exceptions
from copilot.demo.reference import load_reference_data
from copilot.demo.settlement_flow import generate_settlements
from copilot.demo.writer import write_warehouse

__all__ = ["DemoSummary", "build_demo_warehouse"]

MAX_TRADES = 5_000_000  # beyond this the build no longer fits in a few GB of memory


@dataclass(frozen=True)
class DemoSummary:
    """What `build_demo_warehouse` built: where, for which as-of date and seed, how big."""

    path: Path
    as_of: dt.date
    seed: int
    row_counts: Mapping[str, int]  # table name -> rows, in the schema's table order
    elapsed_seconds: float


def build_demo_warehouse(out: Path | str | PathLike[str], *, as_of: dt.date, seed: int = 7,
                         trades: int = 20_000) -> DemoSummary:
    """Build the demo warehouse at `out` (SQLite), replacing any file there atomically.

    Trades span the two years up to `as_of`; settlements run from 90 days before it to 30 days
    after. Raises DemoDataError for bad arguments or a path that cannot be written.
    """
    started = time.perf_counter()
    as_of, seed, trades = _checked(as_of, seed, trades)
    path = Path(out)
    tables = generate_tables(as_of=as_of, seed=seed, trades=trades)
    write_warehouse(path, tables)
    return DemoSummary(
        path=path, as_of=as_of, seed=seed,
        row_counts=MappingProxyType({t.name: t.row_count for t in tables}),
        elapsed_seconds=time.perf_counter() - started,
    )


def generate_tables(*, as_of: dt.date, seed: int, trades: int) -> tuple[Table, ...]:
    """Generate every table of the demo warehouse in memory, in foreign-key order."""
    ref = load_reference_data()
    as_of_day = (as_of - dt.date(1970, 1, 1)).days
    # One independent stream per stage: changing how one table is drawn leaves the others be.
    streams = np.random.default_rng(seed).spawn(5)
    (entities, counterparties, books_table), books = reference_tables(ref, streams[0], as_of_day)
    trade_table, trade_arrays = generate_trades(ref, books, streams[1], as_of, trades)
    confirmations, conf_arrays = generate_confirmations(trade_arrays, streams[2], as_of_day)
    settlements, netting_sets, sett_arrays, net_arrays = generate_settlements(
        ref, trade_arrays, streams[3], as_of_day)
    exceptions = generate_exceptions(ref, trade_arrays, conf_arrays, sett_arrays, net_arrays,
                                     streams[4], as_of_day)
    return (entities, counterparties, books_table, trade_table, confirmations, netting_sets,
            settlements, exceptions)


def _checked(as_of: object, seed: object, trades: object) -> tuple[dt.date, int, int]:
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    if not isinstance(as_of, dt.date):
        raise DemoDataError(f"The as-of date must be a date such as 2026-11-20, got {as_of!r}.")
    if not 1902 <= as_of.year <= 9000:
        raise DemoDataError(f"The as-of date {as_of} is out of range (years 1902 to 9000).")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DemoDataError(f"The seed must be a whole number of 0 or more, got {seed!r}.")
    if isinstance(trades, bool) or not isinstance(trades, int) or trades < 1:
        raise DemoDataError(f"The number of trades must be at least 1, got {trades!r}.")
    if trades > MAX_TRADES:
        raise DemoDataError(f"The number of trades must be at most {MAX_TRADES:,}, "
                            f"got {trades:,}.")
    return as_of, seed, trades

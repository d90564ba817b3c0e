"""Time the demo warehouse build: `python benchmarks/bench_demo_db.py [--trades N ...]`.

Builds the SQLite warehouse for each trade count (default 20,000 and 1,000,000) in a temporary
folder and prints the elapsed time, the file size and the row count of every table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_TRADES = (20_000, 1_000_000)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, action="append", metavar="N",
                        help="trade count to build (repeatable; default 20000 and 1000000)")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 11, 20),
                        help="as-of date, YYYY-MM-DD (default 2026-11-20)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO))  # run as a script from a checkout, no install needed
    from copilot.core.errors import DemoDataError
    from copilot.demo import build_demo_warehouse

    print(f"demo warehouse build, as-of {args.as_of}, seed {args.seed}")
    with tempfile.TemporaryDirectory(prefix="bench-demo-db-") as folder:
        for trades in args.trades or DEFAULT_TRADES:
            path = Path(folder) / f"otc_{trades}.db"
            try:
                summary = build_demo_warehouse(path, as_of=args.as_of, seed=args.seed,
                                               trades=trades)
            except DemoDataError as error:
                print(f"error: {error}", file=sys.stderr)
                return 2
            size_mb = path.stat().st_size / 1e6
            rate = trades / summary.elapsed_seconds
            print(f"\ntrades={trades:,}  elapsed={summary.elapsed_seconds:.2f} s  "
                  f"({rate:,.0f} trades/s)  file={size_mb:,.1f} MB")
            for table, rows in summary.row_counts.items():
                print(f"  {table:<16} {rows:>12,}")
            path.unlink()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"\npeak memory (max RSS) {peak_mb:,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

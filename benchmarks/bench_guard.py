"""Time the SQL guard per statement: `python benchmarks/bench_guard.py [--rounds N]`.

Checks every statement of the guard's test lists (tests/fixtures/guard_attacks.yaml and
guard_allowed.yaml) against the demo warehouse's schema, several rounds each, and prints
p50, p95 and max milliseconds per statement, for all, for the attacks and for the allowed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import yaml
from latency import latency_line  # benchmarks/ is on sys.path when run as a script

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="checks of each statement")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO))  # run as a script from a checkout, no install needed
    from copilot.core.guard import Guard, GuardSchema
    from copilot.core.warehouse import Warehouse
    from copilot.demo import build_demo_warehouse

    attacks = yaml.safe_load((FIXTURES / "guard_attacks.yaml").read_text(encoding="utf-8"))
    allowed = yaml.safe_load((FIXTURES / "guard_allowed.yaml").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="bench-guard-") as folder:
        path = Path(folder) / "otc.db"
        build_demo_warehouse(path, as_of=dt.date(2026, 11, 20), trades=1_000)
        warehouse = Warehouse(f"sqlite:///{path}", timeout_s=5)
        schema = GuardSchema.from_warehouse(warehouse.schema())
        warehouse.dispose()
    guards = {d: Guard(schema, dialect=d, row_cap=5000) for d in ("sqlite", "postgres", "tsql")}

    timings: dict[str, list[float]] = {"attacks": [], "allowed": []}
    wrong = 0
    for kind, items in (("attacks", attacks), ("allowed", allowed)):
        for item in items:
            guard = guards[item["dialect"]]
            for _ in range(args.rounds):
                started = time.perf_counter()
                verdict = guard.check(item["sql"])
                timings[kind].append((time.perf_counter() - started) * 1000)
            wrong += verdict.allowed != (kind == "allowed")

    print(f"SQL guard, {len(attacks)} attacks + {len(allowed)} allowed queries, "
          f"{args.rounds} rounds each (sqlite, postgres, tsql)")
    print(latency_line("all", timings["attacks"] + timings["allowed"], 9))
    print(latency_line("attacks", timings["attacks"], 9))
    print(latency_line("allowed", timings["allowed"], 9))
    print(f"wrong verdicts: {wrong}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())

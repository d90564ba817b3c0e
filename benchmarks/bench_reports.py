"""Report scheduling and rendering: `python benchmarks/bench_reports.py [--templates 500]`.

1. Schedules N report templates, all due at the same minute, in one process (the real
   scheduler, job store, runner and run log on the demo warehouse; each report a small
   query rendered to CSV), and prints how late each run started after its scheduled time
   (p50, p99, max) and when the last one finished.
2. Streams a 100,000-row result from a SQLite warehouse through the guard and renders it to
   CSV, Excel and PDF, one format at a time and all three together.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from latency import percentile

REPO = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 11, 20)


def _lateness(templates: int) -> str:
    from copilot.demo import build_demo_warehouse
    from copilot.settings import load_settings
    from copilot.wiring import build_services, report_runner
    from reports.model import ReportTemplate, Schedule
    from reports.scheduler import ReportScheduler

    with tempfile.TemporaryDirectory(prefix="bench-reports-") as folder:
        data = Path(folder) / "data"
        data.mkdir()
        build_demo_warehouse(data / "otc_demo.db", as_of=AS_OF)
        settings = load_settings({"OPSCOPILOT_DATA_DIR": str(data),
                                  "OPSCOPILOT_AS_OF": AS_OF.isoformat()},
                                 env_file=data / "none")
        runner = report_runner(build_services(settings))
        for number in range(templates):
            runner.store.save(ReportTemplate(
                name=f"report {number:03d}", schedule=Schedule("cron", cron="* * * * *"),
                sql=f"SELECT status, COUNT(*) AS n FROM settlements WHERE settlement_id > "
                    f"{number} GROUP BY status"))
        scheduler = ReportScheduler.start_for(runner)
        due = min(t for t in scheduler.next_run_times().values() if t)
        while len(runner.store.runs(limit=templates + 10)) < templates:
            time.sleep(0.5)
            if datetime.now(UTC) > due + dt.timedelta(minutes=10):
                break
        scheduler.shutdown()
        runs = [r for r in runner.store.runs(limit=templates + 10)
                if r.scheduled_for and r.trigger == "schedule"]

    def at(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    late = [(at(r.started_at) - at(r.scheduled_for)).total_seconds() * 1000 for r in runs]
    finished = max((at(r.ended_at) - at(r.scheduled_for)).total_seconds() for r in runs)
    states = {r.state for r in runs}
    return (f"{len(runs)} of {templates} templates due at the same minute ran "
            f"({', '.join(sorted(states))}): start lateness p50 "
            f"{percentile(late, 0.5):,.0f} ms, p99 {percentile(late, 0.99):,.0f} ms, max "
            f"{max(late):,.0f} ms; the last finished {finished:.1f} s after the minute")


def _render(rows: int) -> list[str]:
    from copilot.core.guard import Guard, GuardSchema
    from copilot.core.warehouse import Warehouse
    from reports.render import render_report

    lines = []
    with tempfile.TemporaryDirectory(prefix="bench-render-") as folder:
        db = Path(folder) / "wide.db"
        rng = random.Random(7)
        with sqlite3.connect(db) as conn:
            conn.execute("CREATE TABLE settlements_history (settlement_id INTEGER PRIMARY KEY, "
                         "trade_id TEXT, currency TEXT, amount REAL, status TEXT, "
                         "value_date TEXT)")
            conn.executemany("INSERT INTO settlements_history VALUES (?, ?, ?, ?, ?, ?)", (
                (i, f"TRD{i:07d}", rng.choice(("USD", "EUR", "GBP", "JPY")),
                 round(rng.uniform(-5e6, 5e6), 2), rng.choice(("SETTLED", "FAILED")),
                 f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}")
                for i in range(rows)))
        warehouse = Warehouse(f"sqlite:///{db}", timeout_s=120)
        guard = Guard(GuardSchema.from_warehouse(warehouse.schema()), dialect="sqlite",
                      row_cap=1_000_000)
        statement = guard.check("SELECT * FROM settlements_history ORDER BY settlement_id"
                                ).statement
        assert statement is not None
        for formats in (("csv",), ("xlsx",), ("pdf",), ("csv", "xlsx", "pdf")):
            started = time.perf_counter()
            done = render_report(warehouse.stream(statement), formats=formats,
                                 folder=Path(folder) / "out", name="history",
                                 run_at=datetime.now(), as_of=AS_OF)
            seconds = time.perf_counter() - started
            sizes = ", ".join(f"{p.suffix[1:]} {p.stat().st_size / 1e6:.1f} MB"
                              for p in done.files)
            lines.append(f"{done.row_count:,} rows -> {'+'.join(formats):<12} "
                         f"{seconds:6.2f} s  ({sizes})")
        warehouse.dispose()
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", type=int, default=500)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    os.chdir(REPO)
    print("report benchmark")
    for line in _render(args.rows):
        print(line)
    print(_lateness(args.templates))
    return 0


if __name__ == "__main__":
    sys.exit(main())

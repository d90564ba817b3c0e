"""Report workers at 07:00: `python benchmarks/bench_workers.py [--reports 500] [--workers 1 2 4]`.

For each worker count, N real `python -m copilot worker --concurrency 1` processes on a real
Redis, with the state and audit on a real PostgreSQL (both started here on loopback, as the
tests do): 500 report templates (a small query on the demo warehouse rendered to CSV and
dropped in a folder) are queued at one scheduled time, as the scheduler queues a minute's
runs, and the table shows how late the runs started after that time (p50, p99, max) and
how many ran per minute until the last one ended.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SQL = "SELECT status, COUNT(*) AS n FROM settlements WHERE settlement_id > {n} GROUP BY status"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _round(env: dict[str, str], runner: object, queue: object, workers: int, reports: int,
           folder: Path) -> str:
    from latency import percentile

    from reports.model import Recipients, ReportTemplate

    logs = folder / f"logs-{workers}"
    logs.mkdir()
    processes = [subprocess.Popen(
        [sys.executable, "-m", "copilot", "worker", "--concurrency", "1", "--name", f"b{n}"],
        cwd=REPO, env=env, stdout=(logs / f"{n}.log").open("wb"), stderr=subprocess.STDOUT)
        for n in range(workers)]
    try:
        while len(queue.app.control.ping(timeout=0.5)) < workers:  # type: ignore[attr-defined]
            time.sleep(0.2)
        store = runner.store  # type: ignore[attr-defined]
        templates = [store.save(ReportTemplate(
            name=f"w{workers} report {n:03d}", sql=SQL.format(n=n), formats=("csv",),
            recipients=Recipients(folders=(str(folder / f"share-{workers}"),))))
            for n in range(reports)]
        # Each worker's process builds its services on its first run: warm them first, as
        # a worker started at 06:00 is by 07:00.
        warm = set()
        for n in range(workers * 2):
            stamp = datetime.now(UTC)
            warm.add(stamp.isoformat())
            queue.enqueue(templates[n], trigger="manual",  # type: ignore[attr-defined]
                          scheduled_for=stamp, by="bench")
        while len([r for r in store.runs(limit=10_000) if r.scheduled_for in warm
                   and r.state != "working"]) < len(warm):
            time.sleep(0.2)
        due = datetime.now(UTC)
        for template in templates:
            queue.enqueue(template, trigger="schedule",  # type: ignore[attr-defined]
                          scheduled_for=due, by="scheduler")
        names = {t.id for t in templates}

        def done() -> list[object]:
            return [r for r in store.runs(limit=10_000) if r.template_id in names
                    and r.trigger == "schedule" and r.state not in ("working", "queued")]

        deadline = time.monotonic() + 900
        while len(done()) < reports and time.monotonic() < deadline:
            time.sleep(0.5)
        runs = done()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(60)
    late = [(_at(r.started_at) - due).total_seconds() for r in runs]  # type: ignore[attr-defined]
    span = max((_at(r.ended_at) - due).total_seconds() for r in runs)  # type: ignore[attr-defined]
    states = sorted({r.state for r in runs})  # type: ignore[attr-defined]
    return (f"| {workers:>7} | {len(runs):>4} | {percentile(late, 0.5):>8.1f} s | "
            f"{percentile(late, 0.99):>8.1f} s | {max(late):>8.1f} s | {span:>8.1f} s | "
            f"{len(runs) / span * 60:>9.0f} | {', '.join(states)} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=500)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    sys.path[:0] = [str(REPO), str(REPO / "tests")]
    import psycopg
    from pgserver import running_postgres
    from redisserver import running_redis

    from copilot.demo import build_demo_warehouse
    from copilot.settings import load_settings
    from copilot.wiring import build_services, report_runner
    from reports.workers import ReportQueue

    folder = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    try:
        with running_postgres() as pg, running_redis() as redis:
            dsn = f"host=127.0.0.1 port={pg.port} user={pg.superuser} dbname=postgres"
            with psycopg.connect(dsn, autocommit=True) as admin:
                admin.execute("CREATE DATABASE state")
                admin.execute("CREATE DATABASE audit")
            data = folder / "data"
            data.mkdir()
            build_demo_warehouse(data / "otc_demo.db", as_of=datetime(2026, 11, 20).date())
            env = {k: v for k, v in os.environ.items() if not k.startswith("OPSCOPILOT_")} | {
                "OPSCOPILOT_DATA_DIR": str(data), "OPSCOPILOT_AS_OF": "2026-11-20",
                "OPSCOPILOT_STATE_URL": pg.url("state"), "OPSCOPILOT_AUDIT_URL": pg.url("audit"),
                "OPSCOPILOT_AUDIT_KEY_DIR": str(folder / "keys"),
                "OPSCOPILOT_AUDIT_CHECKPOINT_DIR": str(folder / "checkpoints"),
                "OPSCOPILOT_REDIS_URL": redis.url, "OPSCOPILOT_REPORT_EXECUTION": "celery",
                "OPSCOPILOT_ENV_FILE": str(folder / "none.env")}
            settings = load_settings(env, env_file=folder / "none.env")
            runner = report_runner(build_services(settings))  # trains the demo once
            queue = ReportQueue(settings)
            print(f"{args.reports} reports due at once; Redis {redis.url}, state and audit on "
                  f"PostgreSQL, {os.cpu_count()} CPUs")
            print("| workers | runs | p50 late | p99 late | max late |  last end | runs/min "
                  "| states |")
            print("|---|---|---|---|---|---|---|---|")
            for workers in args.workers:
                print(_round(env, runner, queue, workers, args.reports, folder), flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

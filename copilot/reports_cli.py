"""`python -m copilot scheduler`, `python -m copilot worker` and `python -m copilot reports
...`: reports without the UI.

Like streamlit_app.py, the command line is a composition root: it may reach the reports
package, which itself builds on copilot.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from typing import TYPE_CHECKING

from copilot.core.errors import ConfigError
from copilot.core.settings import Settings
from copilot.wiring import build_services, report_runner

if TYPE_CHECKING:
    from reports.model import ReportRun

__all__ = ["add_report_commands", "run_reports", "run_scheduler", "run_worker"]


def add_report_commands(commands: argparse._SubParsersAction) -> None:
    commands.add_parser("scheduler", help="run the report scheduler without the UI (Ctrl-C "
                                          "stops it); with OPSCOPILOT_REPORT_EXECUTION=celery "
                                          "it queues the runs due for the workers")
    worker = commands.add_parser("worker", help="run report runs queued on Redis (Celery "
                                                "worker; OPSCOPILOT_REDIS_URL)")
    worker.add_argument("--concurrency", type=int, default=os.cpu_count() or 1,
                        help="report runs at once, each in its own process (default: CPUs)")
    worker.add_argument("--name", default=f"copilot-{os.getpid()}",
                        help="this worker's name among the others (default: copilot-PID)")
    worker.add_argument("--loglevel", default="INFO", help="Celery's log level")
    reports = commands.add_parser("reports", help="list report templates or run one now")
    actions = reports.add_subparsers(dest="reports_command", required=True)
    actions.add_parser("list", help="templates with their schedule and last run")
    run = actions.add_parser("run", help="run one report now and deliver it")
    run.add_argument("name", help="the report's name")
    actions.add_parser("recover", help="finish runs left working by a process that stopped "
                                       "or past the time limit (the scheduler does it too)")


def _runner(settings: Settings):
    return report_runner(build_services(settings))


def run_scheduler(_args: argparse.Namespace, settings: Settings) -> int:
    """Keep the schedules going on a server where nobody has the page open; with workers,
    queue the runs due instead of running them (the reaper runs here in both modes)."""
    from reports.scheduler import SYNC_EVERY_S, ReportScheduler
    from reports.settings import WorkersSettings

    runner = _runner(settings)
    if settings.section(WorkersSettings).queued:
        from reports.workers import ReportQueue, queued_dispatch

        scheduler = ReportScheduler.start_for(
            runner, dispatch=queued_dispatch(runner, ReportQueue(settings)),
            sync_every_s=SYNC_EVERY_S)
    else:
        scheduler = ReportScheduler.start_for(runner)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    upcoming = sorted((t, i) for i, t in scheduler.next_run_times().items() if t)
    print(f"scheduler running: {len(scheduler.next_run_times())} reports"
          + (f"; next at {upcoming[0][0]:%Y-%m-%d %H:%M %Z}" if upcoming else ""), flush=True)
    stop.wait()
    scheduler.shutdown()
    print("scheduler stopped")
    return 0


def run_worker(args: argparse.Namespace, settings: Settings) -> int:
    """A Celery worker in this process: `--concurrency` child processes, each building the
    services once (on its first run) and running the report runs it takes from Redis."""
    from reports.workers import celery_app, register_tasks

    if args.concurrency < 1:
        raise ConfigError("--concurrency must be 1 or more.")
    app = celery_app(settings)
    register_tasks(app, lambda: _runner(settings))
    # No gossip or mingle: workers share nothing but the queue, and start faster without.
    app.worker_main(["worker", f"--concurrency={args.concurrency}", f"--hostname={args.name}@%h",
                     f"--loglevel={args.loglevel}", "--without-gossip", "--without-mingle"])
    return 0


def run_reports(args: argparse.Namespace, settings: Settings) -> int:
    runner = _runner(settings)
    if args.reports_command == "list":
        for template in runner.store.templates():
            last = next(iter(runner.store.runs(template_id=template.id, limit=1)), None)
            state = f"last {last.state} at {last.started_at[:16]}" if last else "never run"
            paused = " (paused)" if template.paused else ""
            print(f"{template.name}{paused}\t{template.schedule.label}\t{state}")
        return 0
    if args.reports_command == "recover":
        from reports.recovery import recover_runs

        recovered = recover_runs(runner)
        for run in recovered:
            print(f"run #{run.id} of {run.template_name!r}")
            _print_run(run)
        print(f"{len(recovered)} run(s) recovered")
        return 0
    template = runner.store.template(args.name)
    run = runner.run(template, trigger="manual", by=settings.app.user)
    _print_run(run)
    return RUN_EXIT_STATUS.get(run.state, 1)


# What `reports run` exits with: 0 sent everywhere, 2 sent nowhere, 3 some channels failed.
RUN_EXIT_STATUS = {"success": 0, "error": 2, "partial": 3}


def _print_run(run: ReportRun) -> None:
    print(f"{run.state}: {run.row_count or 0:,} rows"
          + (f"; {run.error}" if run.error else ""))
    for delivery in run.deliveries:
        state = str(delivery.get("state") or ("sent" if delivery["ok"] else "failed"))
        print(f"  {delivery['channel']} {delivery['target']}: {state}"
              + ("" if delivery["ok"] else f" ({delivery['error']})"))
    for path in run.files:
        print(f"  file {path}")

"""`python -m copilot scheduler` and `python -m copilot reports ...`: reports without the UI.

Like streamlit_app.py, the command line is a composition root: it may reach the reports
package, which itself builds on copilot.
"""

from __future__ import annotations

import argparse
import signal
import threading

from copilot.config import Settings
from copilot.services import build_services

__all__ = ["add_report_commands", "run_reports", "run_scheduler"]


def add_report_commands(commands: argparse._SubParsersAction) -> None:
    commands.add_parser("scheduler", help="run the report scheduler without the UI (Ctrl-C "
                                          "stops it)")
    reports = commands.add_parser("reports", help="list report templates or run one now")
    actions = reports.add_subparsers(dest="reports_command", required=True)
    actions.add_parser("list", help="templates with their schedule and last run")
    run = actions.add_parser("run", help="run one report now and deliver it")
    run.add_argument("name", help="the report's name")


def _runner(settings: Settings):
    from reports.runner import ReportRunner
    from reports.store import ReportStore

    services = build_services(settings)
    return ReportRunner(services, ReportStore(settings.state_url))


def run_scheduler(_args: argparse.Namespace, settings: Settings) -> int:
    """Keep the schedules going on a server where nobody has the page open."""
    from reports.scheduler import ReportScheduler

    scheduler = ReportScheduler.start_for(_runner(settings))
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


def run_reports(args: argparse.Namespace, settings: Settings) -> int:
    runner = _runner(settings)
    if args.reports_command == "list":
        for template in runner.store.templates():
            last = next(iter(runner.store.runs(template_id=template.id, limit=1)), None)
            state = f"last {last.state} at {last.started_at[:16]}" if last else "never run"
            paused = " (paused)" if template.paused else ""
            print(f"{template.name}{paused}\t{template.schedule.label}\t{state}")
        return 0
    template = runner.store.template(args.name)
    run = runner.run(template, trigger="manual", by=settings.user)
    print(f"{run.state}: {run.row_count or 0:,} rows" + (f"; {run.error}" if run.error else ""))
    for delivery in run.deliveries:
        print(f"  {delivery['channel']} {delivery['target']}: "
              + ("sent" if delivery["ok"] else f"failed ({delivery['error']})"))
    for path in run.files:
        print(f"  file {path}")
    return {"success": 0, "error": 2}.get(run.state, 1)

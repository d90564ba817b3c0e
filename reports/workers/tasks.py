"""The workers' task: one report run, through the ordinary ReportRunner.

The runner is built once per worker process (after the fork: a database pool or an owner
token must not be shared with the parent) by the factory the command hands in, so this
floor never imports the composition root above it.
"""

from __future__ import annotations

import logging
import os
import random
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from celery import Celery, Task

from copilot.core.errors import WarehouseUnavailable
from copilot.core.statedb import StateUnavailable, now_text
from reports.model import ReportError, ReportRun
from reports.recovery import recover_runs
from reports.runner import ReportRunner
from reports.workers.app import RUN_REPORT

__all__ = ["TRANSIENT", "backoff", "execute", "give_up", "register_tasks"]

log = logging.getLogger(__name__)
# Failures that pass: the task is retried with exponential backoff (2 s, 4 s, ... 5 min,
# jittered) before any run is logged, so a retry is not refused as a duplicate; after the
# last one the run is logged as an error, for a re-run.
TRANSIENT: tuple[type[Exception], ...] = (StateUnavailable, WarehouseUnavailable)
MAX_RETRIES = 10


def execute(runner: ReportRunner, template_id: int, scheduled_for_iso: str, trigger: str,
            by: str) -> dict[str, Any]:
    """Run one queued run; what became of it (for the result store and the worker's log)."""
    template = runner.store.template_by_id(template_id)
    if template is None:
        return {"template_id": template_id, "state": "gone"}
    if template.paused and trigger != "manual":
        return {"template_id": template_id, "state": "paused"}
    # A warehouse that is down now is retried later, before the run takes its place in
    # the log (a run logged as an error would hold its scheduled time).
    runner.answering.executor.warehouse.ping()
    scheduled = datetime.fromisoformat(scheduled_for_iso) if scheduled_for_iso else None
    run = runner.run(template, trigger=trigger, scheduled_for=scheduled,  # type: ignore[arg-type]
                     by=by)
    recovered = []
    if run.id is None:
        # This time is already in the run log: another scheduler queued it too, or this is
        # a message redelivered after the worker running it died. Such a dead worker's run
        # is finished now (the channels it had not started), not at the next reaper pass.
        recovered = [r.id for r in recover_runs(runner)]
    return {"template_id": template_id, "run_id": run.id, "state": run.state,
            "scheduled_for": scheduled_for_iso, "recovered": recovered}


def backoff(retries: int) -> float:
    """Seconds before retry number `retries + 1`: 2, 4, 8 ... up to 5 min, jittered so a
    hundred runs that failed together do not come back together."""
    return min(300.0, 2.0 ** (retries + 1)) * random.uniform(0.5, 1.0)


def give_up(runner: ReportRunner, template_id: int, scheduled_for_iso: str, trigger: str,
            by: str, reason: str) -> dict[str, Any]:
    """After the last retry: the run is logged as an error under its time, kept for a re-run
    from the Reports page (when the state database itself is back)."""
    template = runner.store.template_by_id(template_id)
    if template is None:
        return {"template_id": template_id, "state": "gone"}
    failed = ReportRun(template_id, template.name, trigger, now_text(),  # type: ignore[arg-type]
                       "error", scheduled_for=scheduled_for_iso, ended_at=now_text(),
                       error=f"Not run after {MAX_RETRIES} retries: {reason}")
    try:
        run = runner.store.start_run(failed)
    except ReportError:  # a run of this time got through meanwhile
        return {"template_id": template_id, "run_id": None, "state": "skipped"}
    runner.log(run, by, template)
    return {"template_id": template_id, "run_id": run.id, "state": "error"}


class _PerProcess:
    """The runner of this process, built on first use and again in a forked child."""

    def __init__(self, make: Callable[[], ReportRunner]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._built: tuple[int, ReportRunner] | None = None

    def get(self) -> ReportRunner:
        with self._lock:
            if self._built is None or self._built[0] != os.getpid():
                self._built = (os.getpid(), self._make())
            return self._built[1]


def register_tasks(app: Celery, make_runner: Callable[[], ReportRunner]) -> Task:
    """Register the run_report task on `app`, running reports with `make_runner()`'s
    runner (built once per worker process); returns the task."""
    runner = _PerProcess(make_runner)

    @app.task(name=RUN_REPORT, bind=True, acks_late=True, reject_on_worker_lost=True,
              max_retries=MAX_RETRIES)
    def run_report(self: Task, template_id: int, scheduled_for_iso: str, trigger: str,
                   by: str = "scheduler") -> dict[str, Any]:
        try:
            outcome = execute(runner.get(), template_id, scheduled_for_iso, trigger, by)
        except TRANSIENT as exc:
            if self.request.retries < MAX_RETRIES:
                log.warning("report run of template %s retried: %s", template_id, exc)
                raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from None
            outcome = give_up(runner.get(), template_id, scheduled_for_iso, trigger, by,
                              str(exc))
        log.info("report run %s", outcome)
        return outcome

    return run_report

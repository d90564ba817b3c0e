"""Report schedules: an APScheduler 3 BackgroundScheduler in the app's process (or in
`python -m copilot scheduler` on a server), its jobs kept in the state database.

The template table is the source of truth: `sync` rebuilds the jobs from it, keeping a job
whose trigger is unchanged so that a run missed while the process was down is still due.
On start, missed runs within the grace time run once (coalesced) and are logged as
catch-up runs. One scheduler per state database and process, however often Streamlit reruns
the script or a page asks for it.

What a fired job does is its `dispatch`: run the report here (the embedded default) or put
it on the workers' queue (reports/workers/). A scheduler that does not fire (the app when
the workers run reports) still keeps the job store in step with the templates, so the
scheduler process and the page's next run times see every change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from reports.model import ReportTemplate
from reports.recovery import recover_runs
from reports.runner import ReportRunner
from reports.triggers import trigger_for

__all__ = ["Dispatch", "ReportScheduler", "run_job"]
REAP_EVERY_S = 300  # how often runs past their time limit are looked for
SYNC_EVERY_S = 30  # how often a scheduler beside the app re-reads the templates
# What a fired job does with the run due: (template, trigger, scheduled time in UTC).
Dispatch = Callable[[ReportTemplate, str, datetime], None]
_RUNNING: dict[str, ReportScheduler] = {}
_RUNNING_LOCK = threading.Lock()


def run_job(state_url: str, template_id: int) -> None:
    """What the job store keeps (by reference) and APScheduler calls."""
    scheduler = _RUNNING.get(state_url)
    if scheduler is not None:
        scheduler.fire(template_id)


class ReportScheduler:
    def __init__(self, runner: ReportRunner, *, grace_s: int,
                 dispatch: Dispatch | None = None) -> None:
        self.runner = runner
        self.grace_s = grace_s
        self.dispatch: Dispatch = dispatch or self._run_here
        self.state_url = runner.settings.state.url
        self._overdue: dict[str, datetime] = {}
        self._scheduler = BackgroundScheduler(
            # The reaper lives in memory: each process runs its own, and the template jobs'
            # store holds templates only.
            jobstores={"default": SQLAlchemyJobStore(url=self.state_url,
                                                     tablename="report_jobs"),
                       "process": MemoryJobStore()},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": grace_s},
            timezone=UTC)

    @classmethod
    def start_for(cls, runner: ReportRunner, *, grace_s: int = 3600,
                  dispatch: Dispatch | None = None, fires: bool = True,
                  sync_every_s: int = 0) -> ReportScheduler:
        """The process's scheduler for this state database, started on the first call.
        `fires=False`: jobs are kept in step but none fires (another process fires them);
        `sync_every_s`: re-read the templates that often (changes saved by the app)."""
        url = runner.settings.state.url
        with _RUNNING_LOCK:
            running = _RUNNING.get(url)
            if running is None:
                running = cls(runner, grace_s=grace_s, dispatch=dispatch)
                _RUNNING[url] = running
                # Runs a dead process left working are finished before anything new fires.
                recover_runs(runner)
                running._scheduler.start(paused=True)  # jobs load; none fires before sync
                running.sync()
                if not fires:
                    return running
                if sync_every_s:
                    running._scheduler.add_job(running.sync, "interval", seconds=sync_every_s,
                                               id="sync", jobstore="process",
                                               replace_existing=True)
                running._scheduler.add_job(recover_runs, "interval", args=[runner],
                                           seconds=REAP_EVERY_S, id="reaper",
                                           jobstore="process", replace_existing=True)
                # Jobs due before this start were missed while nothing ran: their one
                # coalesced run is logged as a catch-up of the first missed time.
                started = datetime.now(UTC)
                running._overdue = {job.id: job.next_run_time
                                    for job in running._scheduler.get_jobs(jobstore="default")
                                    if job.next_run_time and job.next_run_time < started}
                running._scheduler.resume()
            return running

    def sync(self) -> None:
        """Make the jobs match the templates: add, change, pause, resume, remove."""
        jobs = {job.id: job for job in self._scheduler.get_jobs(jobstore="default")}
        for template in self.runner.store.templates():
            job_id = f"report-{template.id}"
            trigger = trigger_for(template.schedule)
            job = jobs.pop(job_id, None)
            if job is None or str(job.trigger) != str(trigger) or job.name != template.name:
                job = self._scheduler.add_job(
                    run_job, trigger, args=[self.state_url, template.id], id=job_id,
                    name=template.name, replace_existing=True)
            if template.paused and job.next_run_time is not None:
                self._scheduler.pause_job(job_id)
            elif not template.paused and job.next_run_time is None:
                self._scheduler.resume_job(job_id)
        for job_id in jobs:
            self._scheduler.remove_job(job_id)

    def fire(self, template_id: int) -> None:
        template = self.runner.store.template_by_id(template_id)
        if template is None or template.paused:
            return
        missed = self._overdue.pop(f"report-{template_id}", None)
        now = datetime.now(UTC)
        scheduled = missed or _last_fire(trigger_for(template.schedule), now, self.grace_s) or now
        self.dispatch(template, "catch-up" if missed else "schedule", scheduled.astimezone(UTC))

    def _run_here(self, template: ReportTemplate, trigger: str, scheduled: datetime) -> None:
        self.runner.run(template, trigger=trigger,  # type: ignore[arg-type]
                        scheduled_for=scheduled, by="scheduler")

    def next_run_times(self) -> dict[int, datetime | None]:
        return {int(job.args[1]): job.next_run_time
                for job in self._scheduler.get_jobs(jobstore="default")}

    def shutdown(self) -> None:
        with _RUNNING_LOCK:
            if _RUNNING.get(self.state_url) is self:
                del _RUNNING[self.state_url]
        self._scheduler.shutdown(wait=False)


def _last_fire(trigger: CronTrigger, now: datetime, grace_s: int) -> datetime | None:
    """The latest time the trigger fired at or before `now`, looking back the grace time."""
    cursor, last = now - timedelta(seconds=grace_s + 1), None
    for _ in range(100_000):  # a once-a-minute cron over a day's grace is 1,440
        fire = trigger.get_next_fire_time(None, cursor)
        if fire is None or fire > now:
            break
        last, cursor = fire, fire + timedelta(seconds=1)
    return last

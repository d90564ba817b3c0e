"""What the Reports page does: create, edit, pause and delete templates (the scheduler
follows at once), run one now, read the run log; every change audited on the report
channel. Under four eyes an email recipient outside the bank's domains waits for an admin's
approval (reports/recipients_kind.py); the rest of the template is saved at once."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from copilot.answering import Answering
from copilot.approvals.model import PendingChange
from copilot.approvals.service import Approvals
from copilot.core.access import AccessDenied
from copilot.core.audit import Recorder
from copilot.core.audit.record import Outcome
from copilot.core.settings import Settings
from copilot.values import Answer
from reports.model import Recipients, ReportError, ReportRun, ReportTemplate
from reports.recipients_kind import RECIPIENTS
from reports.runner import ReportRunner
from reports.scheduler import ReportScheduler
from reports.settings import ReportsSettings, SMTPSettings, WorkersSettings
from reports.smtp_kind import SMTPGate
from reports.store import ReportStore
from reports.triggers import trigger_for

if TYPE_CHECKING:
    from reports.workers.queue import ReportQueue

__all__ = ["ReportService"]


class ReportService:
    """Report templates over `answering`, stored in the state database that `settings`
    name, every change and run recorded by `recorder`; the process's scheduler started
    unless `start_scheduler` is False (a command that runs one report)."""

    def __init__(self, answering: Answering, recorder: Recorder, settings: Settings, *,
                 start_scheduler: bool = True, approvals: Approvals | None = None) -> None:
        self.answering = answering
        self.approvals = approvals
        self.reports_settings = settings.section(ReportsSettings)
        self.recorder = recorder
        self.store = ReportStore(settings.state.url)
        # Under four eyes, report emails wait while the SMTP server is not the approved one.
        holds = SMTPGate(approvals, settings.section(SMTPSettings)).holds() if approvals else None
        self.runner = ReportRunner(answering, recorder, settings, self.store, holds=holds)
        # With workers, runs go on their queue and `python -m copilot scheduler` fires the
        # schedules; this process keeps the job store in step with the templates it saves.
        queued = settings.section(WorkersSettings).queued
        self.queue: ReportQueue | None = None
        if queued:  # Celery is imported only here: the embedded default never loads it
            from reports.workers.queue import ReportQueue
            self.queue = ReportQueue(settings)
        self.scheduler = (ReportScheduler.start_for(self.runner, fires=not queued)
                          if start_scheduler else None)

    def _audit(self, by: str, what: str, sql: str = "", outcome: Outcome = "recorded",
               reason: str = "") -> None:
        self.recorder.record("report", what, by=by, sql=sql, outcome=outcome, reason=reason)

    def _allow(self, by: str, what: str, template: ReportTemplate | None = None) -> None:
        """AccessDenied, recorded as blocked, unless `by` may schedule reports and, for a
        saved template, owns it (as stored, not as the caller's copy says)."""
        self.answering.access.check(by, "schedule reports", what, recorder=self.recorder)
        owner = self._owner(template)
        if owner is not None and owner != by:
            # A report reads its owner's rows (entitlements): whoever else changed its SQL
            # or recipients, or ran it, would receive rows they may not read.
            reason = (f"This report is {owner}'s: it reads {owner}'s rows, so only {owner} "
                      "may change or run it.")
            self._audit(by, what, outcome="blocked", reason=reason)
            raise AccessDenied(reason)

    def _owner(self, template: ReportTemplate | None) -> str | None:
        stored = (self.store.template_by_id(template.id)
                  if template is not None and template.id is not None else None)
        return stored.created_by if stored is not None else None

    def may_change(self, template: ReportTemplate, by: str) -> bool:
        """True when `by` may edit, run, pause or delete `template` and download its files
        (pages hide the controls otherwise; the methods refuse on their own)."""
        return (self.answering.access.allows(by, "schedule reports")
                and self._owner(template) in (None, by))

    def from_answer(self, answer: Answer, *, name: str, by: str) -> ReportTemplate:
        """A template's starting point from an answered question: engine answers re-ask
        their question at each run, so their periods move with the date."""
        if answer.status != "answered" or not answer.generated_sql:
            raise ReportError("Only an answered question can become a report.")
        return ReportTemplate(name=name, sql=answer.generated_sql, question=answer.question,
                              relative=answer.source == "engine",
                              interpretation=answer.interpretation, created_by=by)

    def save(self, template: ReportTemplate, *, by: str) -> ReportTemplate:
        """Check the SQL with the guard and the schedule with the trigger, then save and
        reschedule."""
        self._allow(by, f"report {template.name!r} saved", template)
        verdict = self.answering.check(template.sql)
        if not verdict.allowed:
            self._audit(by, f"report {template.name!r} refused", template.sql, "blocked",
                        verdict.reason)
            raise ReportError(f"The SQL guard refused the report's SQL: {verdict.reason}")
        trigger_for(template.schedule)
        outside = self._held_outside(template)
        if outside:  # saved without them now; each added when an admin approves
            emails = [e for e in template.recipients["email"] if e not in outside]
            template = replace(template, recipients=Recipients(
                {**template.recipients.as_dict(), "email": emails}))
        # A new report is its author's; a saved one keeps its owner (checked above).
        saved = self.store.save(replace(template, created_by=self._owner(template) or by))
        self._sync()
        self._audit(by, f"report {saved.name!r} saved", saved.sql)
        if outside:
            assert self.approvals is not None and saved.id is not None
            self.approvals.propose(RECIPIENTS, {
                "template_id": saved.id, "template": saved.name, "emails": outside},
                summary=f"report {saved.name!r} to {', '.join(outside)}", by=by)
        return saved

    def _held_outside(self, template: ReportTemplate) -> list[str]:
        """The email addresses four eyes hold: outside the bank's domains and not already
        approved on the saved template."""
        if self.approvals is None or not self.approvals.enabled:
            return []
        stored = self.store.template_by_id(template.id) if template.id is not None else None
        approved = set(stored.recipients["email"]) if stored is not None else set()
        return [e for e in template.recipients["email"]
                if e not in approved and not self.reports_settings.inside(e)]

    def pending_recipients(self, template: ReportTemplate) -> list[PendingChange]:
        """The outside recipients of `template` waiting for approval."""
        if self.approvals is None:
            return []
        return [c for c in self.approvals.pending(RECIPIENTS)
                if c.payload.get("template_id") == template.id]

    def set_paused(self, template: ReportTemplate, paused: bool, *, by: str) -> None:
        self._allow(by, f"report {template.name!r} {'paused' if paused else 'resumed'}",
                    template)
        self.store.save(replace(template, paused=paused))
        self._sync()
        self._audit(by, f"report {template.name!r} {'paused' if paused else 'resumed'}")

    def delete(self, template: ReportTemplate, *, by: str) -> None:
        self._allow(by, f"report {template.name!r} deleted", template)
        assert template.id is not None
        self.store.delete(template.id)
        self._sync()
        self._audit(by, f"report {template.name!r} deleted")

    def run_now(self, template: ReportTemplate, *, by: str) -> ReportRun:
        """Run `template` now and return the logged run, or, with workers, queue it and
        return it as queued (its run appears in the log when a worker takes it)."""
        self._allow(by, f"report {template.name!r} run now", template)
        if self.queue is None:
            return self.runner.run(template, trigger="manual", by=by)
        from reports.workers.queue import QueueUnavailable

        try:
            queued = self.queue.run_now(template, by=by)
        except QueueUnavailable as exc:
            self._audit(by, f"report {template.name!r} run now", outcome="error",
                        reason=str(exc))
            raise
        self._audit(by, f"report {template.name!r} run now queued for {queued.scheduled_for}")
        return queued

    def next_run_times(self) -> dict[int, datetime | None]:
        return self.scheduler.next_run_times() if self.scheduler else {}

    def _sync(self) -> None:
        if self.scheduler is not None:
            self.scheduler.sync()

"""One run of a report template: query (through the guard, streamed), render, test the alert,
deliver on every channel, and log the run and audit it, whatever happens.

One run of a template at a time in a process (a lock per template); a scheduled run is also
unique in the run log by template and scheduled time, so a second process running the same
job store cannot send the same report twice.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from copilot.answering import Answering
from copilot.core.audit import Recorder, file_sha256
from copilot.core.errors import CopilotError, GuardRefusal
from copilot.core.observe import observed_report_run
from copilot.core.settings import Settings
from copilot.core.statedb import now_text
from copilot.engine.labels import column_labels
from reports.alerts import evaluate
from reports.channels.registry import CHANNELS
from reports.delivery import Attachment, Channel, ReportMessage, deliver_one
from reports.holds import HeldChannel, Holds
from reports.ledger import DeliveryLedger
from reports.model import ReportError, ReportRun, ReportTemplate, RunState
from reports.render import MIME, render_report
from reports.store import ReportStore

__all__ = ["ReportRunner"]

FULL_RESULT_ROWS = 1_000_000  # a report's cap: far above any page, below Excel's limit
_FIELD = re.compile(r"\{(name|rows|as_of|run_at|interpretation|value)\}")
_LOCKS: dict[tuple[str, int], threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


class ReportRunner:
    """Runs report templates: asks or runs their SQL through `answering`'s executor,
    renders, delivers, and records each run with `recorder`; a channel named in `holds`
    is held while its hold gives a reason (four eyes over the SMTP server)."""

    def __init__(self, answering: Answering, recorder: Recorder, settings: Settings,
                 store: ReportStore, *, holds: Holds | None = None) -> None:
        self.answering = answering
        self.holds: Holds = holds or {}
        self.recorder = recorder
        self.settings = settings
        self.store = store
        self.ledger = DeliveryLedger(settings.state.url)
        assert settings.reports.dir is not None
        self.output_dir: Path = settings.reports.dir

    @observed_report_run
    def run(self, template: ReportTemplate, *, trigger: str = "manual",
            scheduled_for: datetime | None = None, as_of: date | None = None,
            by: str = "") -> ReportRun:
        """Run `template` now; the logged run (never raises for a failed run)."""
        assert template.id is not None
        key = (self.settings.state.url, template.id)
        with _LOCKS_GUARD:
            lock = _LOCKS.setdefault(key, threading.Lock())
        started = ReportRun(template.id, template.name, trigger,  # type: ignore[arg-type]
                            now_text(), "working",
                            scheduled_for=scheduled_for.isoformat() if scheduled_for else "")
        if not lock.acquire(blocking=False):
            busy = replace(started, state="skipped", ended_at=now_text(), scheduled_for="",
                           error="A run of this report was already working.")
            return self.log(self.store.start_run(busy), by)
        try:
            try:
                run = self.store.start_run(started)
            except ReportError as exc:  # this scheduled time is already in the log
                return replace(started, state="skipped", error=str(exc))
            assert run.id is not None
            self.ledger.claim(run.id)
            try:
                run = self._run(template, run, as_of or self.settings.warehouse.effective_as_of())
            except CopilotError as exc:
                run = replace(run, state="error", error=str(exc))
            except Exception as exc:  # a bug must still leave an honest run log entry
                run = replace(run, state="error", error=f"{type(exc).__name__}: {exc}")
            run = replace(run, ended_at=now_text())
            if not self.store.finish_run(run):
                # The reaper took it as hung and finished what it owed: its record stands.
                return self.store.run(run.id)
            return self.log(run, by, template)
        finally:
            lock.release()

    def _run(self, template: ReportTemplate, run: ReportRun, as_of: date) -> ReportRun:
        # A report reads the rows its owner may read, whoever runs it; its readers are told.
        owner = template.created_by or None
        if owner:  # at each run, not only when saved: a role taken away stops the report
            self.answering.allow(owner, "schedule reports", f"report {template.name!r} run")
        sql, interpretation, labels = self._sql(template, as_of)
        run_as = self.answering.scoped(owner)
        if run_as.entitlements is not None:
            interpretation = (f"{interpretation} Rows as {run_as.user} is entitled to read "
                              "them.").strip()
        try:
            chunks = run_as.capped(FULL_RESULT_ROWS).stream(sql)
        except GuardRefusal as exc:
            raise ReportError(f"The SQL guard refused the report's SQL: {exc}") from None
        run_at = datetime.now()
        rendered = render_report(
            chunks, formats=template.formats,
            folder=self.output_dir / f"report-{template.id}", name=template.name,
            run_at=run_at, as_of=as_of, interpretation=interpretation, labels=labels)
        value = _value(rendered.head)
        run = replace(run, row_count=rendered.row_count, value=value,
                      files=tuple(str(p) for p in rendered.files))
        if template.skip_when_empty and rendered.row_count == 0:
            return replace(run, state="skipped", error="The result is empty; nothing was sent.")
        verdict_alert = evaluate(template.alert, value,
                                 self.store.values(template.id or 0, template.alert.trailing))
        if not verdict_alert.triggered:
            return replace(run, state="not triggered", error=verdict_alert.reason)
        if template.alert.kind != "none" and self._in_grace(template):
            return replace(run, state="not triggered",
                           error=f"{verdict_alert.reason}; still within the "
                                 f"{template.alert.grace_minutes} min grace period")
        fields = {"name": template.name, "rows": f"{rendered.row_count:,}",
                  "as_of": as_of.isoformat(), "run_at": f"{run_at:%Y-%m-%d %H:%M}",
                  "interpretation": interpretation,
                  "value": "" if value is None else f"{value:g}"}
        message = ReportMessage(
            subject=_fill(template.subject, fields), body=_fill(template.body, fields),
            columns=rendered.columns, rows=rendered.head[:10],
            attachments=tuple(Attachment(p.name, p.read_bytes(), MIME[p.suffix[1:]])
                              for p in rendered.files),
            link=self.settings.app.url, report=template.name,
            run_at=run_at.isoformat(timespec="seconds"), as_of=as_of.isoformat(),
            row_count=rendered.row_count, interpretation=interpretation)
        channels = self.channels(template)
        assert run.id is not None
        self.ledger.plan(run.id, message, run.files, [(c.name, c.target) for c in channels])
        self.deliver(run.id, message, dict(enumerate(channels)))
        deliveries = self.ledger.deliveries(run.id)
        return replace(run, state=delivered_state(deliveries), deliveries=deliveries,
                       error=delivery_errors(deliveries))

    def deliver(self, run_id: int, message: ReportMessage, channels: dict[int, Channel]
                ) -> None:
        """Send on each channel the ledger still owes, by position; a channel another
        process has started is left to it."""
        for position, channel in sorted(channels.items()):
            if self.ledger.start(run_id, position):
                self.ledger.finish(run_id, position, deliver_one(message, channel))

    def _sql(self, template: ReportTemplate, as_of: date
             ) -> tuple[str, str, Callable[[tuple[str, ...]], tuple[str, ...]]]:
        """The SQL to run, its interpretation, and how its columns are called (the page's
        labels: "Counterparty", "Amount (USD)"): a relative template re-asks its question
        (engine only)."""
        version = self.answering.trainer.active()
        content = version.content if version is not None else None
        if template.relative and template.question:
            answer = self.answering.ask(template.question, as_of=as_of, channel="report",
                                        use_llm=False, rows_of=template.created_by or None)
            if answer.status == "answered" and answer.generated_sql:
                return answer.generated_sql, answer.interpretation, lambda columns: (
                    answer.labels if len(answer.labels) == len(columns)
                    else column_labels(columns, None, content))
        return template.sql, template.interpretation, lambda columns: column_labels(
            columns, None, content)

    def _in_grace(self, template: ReportTemplate) -> bool:
        last = next(iter(self.store.runs(template_id=template.id, state="success", limit=1)),
                    None)
        if last is None or not last.ended_at:
            return False
        ended = datetime.strptime(last.ended_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        return datetime.now(UTC) - ended < timedelta(minutes=template.alert.grace_minutes)

    def channels(self, template: ReportTemplate) -> list[Channel]:
        """The template's delivering objects, channel by channel in the registry's order
        (positions the delivery ledger and a recovered run rely on)."""
        channels: list[Channel] = []
        for name, destinations in template.recipients.destinations:
            made = CHANNELS[name].channels(self.settings, destinations)
            hold = self.holds.get(name)
            reason = hold() if hold is not None and made else ""
            if reason:  # held in the run log by name and target, as if sent and refused
                made = tuple(HeldChannel(c.name, c.target, reason) for c in made)
            channels.extend(made)
        return channels

    def log(self, run: ReportRun, by: str, template: ReportTemplate | None = None) -> ReportRun:
        """Audit a run as it ended; returns it."""
        outcome = _OUTCOMES.get(run.state, "recorded")
        if run.state == "interrupted":  # judged by what reached its channels in the end
            outcome = _OUTCOMES[delivered_state(run.deliveries)] if run.deliveries else "error"
        digests = {Path(f).name: file_sha256(Path(f)) for f in run.files if Path(f).exists()}
        self.recorder.record(
            "report", f"report {run.template_name!r} ({run.trigger})", by=by or None,
            outcome=outcome, sql=template.sql if template else "",  # type: ignore[arg-type]
            row_count=run.row_count, reason=run.error if run.state != "success" else "",
            details={"run_id": run.id, "state": run.state, "scheduled_for": run.scheduled_for,
                     "files": digests, "deliveries": list(run.deliveries)})
        return run


_OUTCOMES = {"success": "answered", "partial": "partial", "error": "error"}


def delivered_state(deliveries: tuple[dict[str, object], ...]) -> RunState:
    """success when every channel has it, error when none does, partial in between."""
    sent = sum(1 for d in deliveries if d["ok"])
    if sent == len(deliveries):
        return "success"
    return "partial" if sent else "error"


def delivery_errors(deliveries: tuple[dict[str, object], ...]) -> str:
    return "; ".join(f"{d['channel']} {d['target']}: {d['error']}"
                     for d in deliveries if not d["ok"])


def _fill(text: str, fields: dict[str, str]) -> str:
    """Only the named fields are replaced: a template is text, not a format string that
    could reach into objects."""
    return _FIELD.sub(lambda m: fields[m.group(1)], text)


def _value(head: tuple[tuple[object, ...], ...]) -> float | None:
    if not head:
        return 0.0
    value = head[0][-1]
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None



"""Reports page: report templates (create from a question, an answer, a widget or SQL; edit,
pause, delete, run now), their next run times, and the run log with filters, re-runs and the
files of past runs, named for the report and the date they answer for. The form itself is in
report_form."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from app_pages.report_form import report_form, schedule_label
from app_pages.state import current_user, reports, services
from copilot.core.errors import CopilotError
from copilot.core.filenames import download_name
from copilot.core.plaintext import markdown_text
from reports import ReportRun, ReportService, ReportTemplate
from reports.smtp_kind import smtp_notice

_STATES = ("", "success", "partial", "error", "interrupted", "skipped", "not triggered",
           "working")


def _save(svc: ReportService, key: str, current: ReportTemplate | None, user: str) -> None:
    try:
        template = report_form(svc, current, key, user)
        if template is not None:
            saved = svc.save(template, by=user)
            st.session_state["report_notice"] = (f"Saved {saved.name!r}: "
                                                 f"{schedule_label(saved.schedule)}.")
            if current is None:  # the next new report starts from empty fields
                for name in [k for k in st.session_state if str(k).startswith(f"{key}_")]:
                    del st.session_state[name]
            st.rerun()  # so the table above shows the saved report and its next run
    except CopilotError as exc:
        st.error(markdown_text(str(exc)))


def _templates(svc: ReportService, user: str) -> None:
    templates = svc.store.templates()
    upcoming = svc.next_run_times()
    if not templates:
        st.info("No reports yet: create one below from a question, an answer, a dashboard "
                "widget or SQL.")
        return
    st.dataframe(pd.DataFrame([{
        "report": t.name, "schedule": schedule_label(t.schedule), "formats": ", ".join(t.formats),
        "paused": t.paused, "next run": upcoming.get(t.id or 0)} for t in templates]),
        hide_index=True, key="report_table")
    names = [t.name for t in templates]
    picked = st.selectbox("Report", names, key="report_pick")
    template = next(t for t in templates if t.name == picked)
    _waiting(svc, template)
    if not svc.may_change(template, user):
        st.caption(markdown_text(f"{template.created_by}'s report: it reads the rows "
                                 f"{template.created_by} may read; only they change or run it."))
        return
    run, pause, delete = st.columns(3)
    if run.button("Run now", key="report_run"):
        with st.spinner("Running…"):
            done = svc.run_now(template, by=user)
        if done.state == "queued":  # the workers run it; the run log shows it when they do
            st.info("queued: a report worker runs it next; it appears in the run log below.")
        else:
            (st.success if done.state == "success" else st.warning)(
                f"{done.state}: {done.row_count or 0:,} rows"
                + (f"; {markdown_text(done.error)}" if done.error else ""))
    if pause.button("Resume" if template.paused else "Pause", key="report_pause"):
        svc.set_paused(template, not template.paused, by=user)
        st.rerun()
    if delete.button("Delete", key="report_delete"):
        svc.delete(template, by=user)
        st.rerun()
    with st.expander("Edit"):
        _save(svc, f"edit_{template.id}", template, user)


def _waiting(svc: ReportService, template: ReportTemplate) -> None:
    """What four eyes hold of this report: outside recipients, the SMTP server."""
    waiting = [e for c in svc.pending_recipients(template) for e in c.payload.get("emails", ())]
    if waiting:  # addresses are untrusted text: escaped, never markup
        st.caption(markdown_text("Waiting for an admin's approval: " + ", ".join(waiting)))
    if template.recipients["email"] and svc.approvals is not None and (
            held := smtp_notice(svc.approvals)):
        st.warning(markdown_text(held))


def _as_of(run: ReportRun, fixed: date | None) -> date:
    # A run answers as of the configured date, else as of the day it ran (the runner's
    # rule); the log keeps its start, so that day is read back from it.
    return fixed or datetime.fromisoformat(run.started_at).astimezone().date()


def _run_log(svc: ReportService, user: str, fixed: date | None) -> None:
    st.subheader("Run log")
    left, right = st.columns(2)
    names = {t.name: t.id for t in svc.store.templates()}
    report = left.selectbox("Report", ["", *names], key="log_report")
    state = right.selectbox("State", _STATES, key="log_state")
    runs = svc.store.runs(template_id=names.get(report) if report else None,
                          state=state or None)
    st.dataframe(pd.DataFrame([{
        "id": r.id, "report": r.template_name, "trigger": r.trigger,
        "scheduled for": r.scheduled_for, "started": r.started_at, "ended": r.ended_at,
        "state": r.state, "rows": r.row_count,
        "delivered": ", ".join(f"{d['channel']} "
                               f"{d.get('state') or ('sent' if d['ok'] else 'failed')}"
                               for d in r.deliveries),
        "error": r.error} for r in runs]), hide_index=True, key="run_table")
    if not runs:
        return
    run = st.selectbox("Run", runs, format_func=lambda r: f"#{r.id} {r.template_name} "
                       f"{r.started_at[:16]} {r.state}", key="log_run")
    template = svc.store.template_by_id(run.template_id)
    if template is None or not svc.may_change(template, user):
        return  # a run's files hold its owner's rows
    as_of = _as_of(run, fixed)
    for number, path in enumerate(Path(p) for p in run.files):
        if path.exists():  # named for the report and its date, not the run's file on disk
            name = download_name(run.template_name, as_of, path.suffix)
            st.download_button(name, path.read_bytes(), file_name=name,
                               key=f"file_{run.id}_{number}", icon=":material/download:")
    if st.button("Re-run", key=f"rerun_{run.id}"):
        done = svc.run_now(template, by=user)
        st.info("queued: a report worker runs it next." if done.state == "queued"
                else f"Run #{done.id}: {done.state}")


def render() -> None:
    """Draw the Reports page."""
    st.title("Reports")
    try:
        settings = services().settings
        user = current_user(settings)
        svc = reports()
    except CopilotError as exc:
        st.error(markdown_text(str(exc)))
        return
    if notice := st.session_state.pop("report_notice", None):
        st.success(markdown_text(notice))  # it names the report as its author typed it
    _templates(svc, user)
    if svc.answering.access.allows(user, "schedule reports"):
        with st.expander("New report"):
            _save(svc, "new_report", None, user)
    _run_log(svc, user, settings.warehouse.as_of)

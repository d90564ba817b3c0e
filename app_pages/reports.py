"""Reports page: report templates (create from an answer, a widget or SQL; edit, pause,
delete, run now), their next run times, and the run log with filters, re-runs and the files
of past runs."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pandas as pd
import streamlit as st

from app_pages.state import current_user, dashboards, reports, services
from copilot.errors import CopilotError
from copilot.plaintext import markdown_text
from reports.model import (
    DAYS,
    FORMATS,
    Alert,
    Recipients,
    ReportTemplate,
    Schedule,
)
from reports.service import ReportService

_STATES = ("", "success", "partial", "error", "interrupted", "skipped", "not triggered",
           "working")


def _lines(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.replace(",", "\n").splitlines() if p.strip())


def _sources(svc: ReportService) -> dict[str, tuple[str, str, bool, str]]:
    """Label -> (question, sql, relative, interpretation) for answers of this session and
    dashboard widgets."""
    found: dict[str, tuple[str, str, bool, str]] = {}
    for answer in st.session_state.get("ask_history", []):
        if answer.status == "answered" and answer.generated_sql:
            # A follow-up is kept as the whole question it stood for: the report re-asks
            # it with no conversation to read "then by book" in.
            question = answer.stands_for or answer.question
            found[f"answer: {question}"] = (
                question, answer.generated_sql, answer.source == "engine",
                answer.interpretation)
    boards = dashboards()
    for board in boards.store.dashboards():
        for widget in boards.store.widgets(board.id):
            found[f"widget: {board.name} / {widget.title}"] = (
                widget.question, widget.sql, widget.relative, "")
    return found


def _form(svc: ReportService, current: ReportTemplate | None, key: str) -> ReportTemplate | None:
    """The template the form describes when it is submitted, else None."""
    base = current or ReportTemplate(name="new report", sql="SELECT 1")
    sources = _sources(svc) if current is None else {}
    with st.form(key):
        name = st.text_input("Name", value="" if current is None else base.name,
                             key=f"{key}_name")
        source = st.selectbox("From", ["SQL below", *sources], key=f"{key}_source") \
            if current is None else "SQL below"
        sql = st.text_area("SQL (checked by the SQL guard)", key=f"{key}_sql",
                           value="" if current is None else base.sql)
        formats = st.multiselect("Formats", FORMATS, default=list(base.formats),
                                 key=f"{key}_formats")
        left, mid, right = st.columns(3)
        kind = left.selectbox("Schedule", ("daily", "weekly", "cron"),
                              index=("daily", "weekly", "cron").index(base.schedule.kind),
                              key=f"{key}_kind")
        hour, minute = (int(p) for p in base.schedule.at.split(":"))
        at = mid.time_input("At", value=time(hour, minute), key=f"{key}_at")
        zone = right.text_input("Time zone", value=base.schedule.timezone, key=f"{key}_tz")
        days = st.multiselect("Days (weekly)", DAYS, default=list(base.schedule.days),
                              key=f"{key}_days")
        cron = st.text_input("Cron (minute hour day month weekday)", value=base.schedule.cron,
                             key=f"{key}_cron")
        weekdays = st.checkbox("Weekdays only", value=base.schedule.weekdays_only,
                               key=f"{key}_weekdays")
        r = base.recipients
        emails = st.text_input("Email recipients", value=", ".join(r.emails),
                               key=f"{key}_emails")
        slack = st.text_input("Slack webhooks", value=", ".join(r.slack), key=f"{key}_slack")
        teams = st.text_input("Teams webhooks", value=", ".join(r.teams), key=f"{key}_teams")
        folders = st.text_input("Folders (local or mounted share)", value=", ".join(r.folders),
                                key=f"{key}_folders")
        skip = st.checkbox("Skip when empty", value=base.skip_when_empty, key=f"{key}_skip")
        subject = st.text_input("Subject ({name} {rows} {as_of} {run_at} {value})",
                                value=base.subject, key=f"{key}_subject")
        body = st.text_area("Body ({interpretation} and the same fields)", value=base.body,
                            key=f"{key}_body")
        a1, a2, a3, a4 = st.columns(4)
        alert_kind = a1.selectbox("Alert", ("none", "threshold", "anomaly"),
                                  index=("none", "threshold", "anomaly").index(base.alert.kind),
                                  key=f"{key}_alert")
        op = a2.selectbox("When value", (">", ">=", "<", "<=", "=="),
                          index=(">", ">=", "<", "<=", "==").index(base.alert.op),
                          key=f"{key}_op")
        value = a3.number_input("Threshold", value=float(base.alert.value), key=f"{key}_value")
        k = a4.number_input("k (anomaly)", min_value=0.1, value=float(base.alert.k),
                            key=f"{key}_k")
        g1, g2 = st.columns(2)
        trailing = g1.number_input("Trailing runs", min_value=3, value=base.alert.trailing,
                                   key=f"{key}_trailing")
        grace = g2.number_input("Grace (minutes)", min_value=0, value=base.alert.grace_minutes,
                                key=f"{key}_grace")
        if not st.form_submit_button("Save", type="primary"):
            return None
    question, relative, interpretation = base.question, base.relative, base.interpretation
    if source != "SQL below":
        question, sql, relative, interpretation = sources[source]
    return ReportTemplate(
        name=name, sql=sql, question=question, relative=relative,
        interpretation=interpretation, formats=tuple(formats), skip_when_empty=skip,
        schedule=Schedule(kind, f"{at:%H:%M}", tuple(days), cron.strip(), zone.strip(),
                          weekdays),
        recipients=Recipients(_lines(emails), _lines(slack), _lines(teams), _lines(folders)),
        subject=subject, body=body,
        alert=Alert(alert_kind, op, float(value), float(k), int(trailing), int(grace)),
        paused=base.paused, id=base.id, created_by=base.created_by)


def _save(svc: ReportService, key: str, current: ReportTemplate | None, user: str) -> None:
    try:
        template = _form(svc, current, key)
        if template is not None:
            saved = svc.save(template, by=user)
            st.session_state["report_notice"] = f"Saved {saved.name!r}: {saved.schedule.label}."
            st.rerun()  # so the table above shows the saved report and its next run
    except CopilotError as exc:
        st.error(markdown_text(str(exc)))


def _templates(svc: ReportService, user: str) -> None:
    templates = svc.store.templates()
    upcoming = svc.next_run_times()
    if not templates:
        st.info("No reports yet: create one from an answer, a dashboard widget or SQL.")
        return
    st.dataframe(pd.DataFrame([{
        "report": t.name, "schedule": t.schedule.label, "formats": ", ".join(t.formats),
        "paused": t.paused, "next run": upcoming.get(t.id or 0)} for t in templates]),
        hide_index=True, key="report_table")
    names = [t.name for t in templates]
    picked = st.selectbox("Report", names, key="report_pick")
    template = next(t for t in templates if t.name == picked)
    run, pause, delete = st.columns(3)
    if run.button("Run now", key="report_run"):
        with st.spinner("Running…"):
            done = svc.run_now(template, by=user)
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


def _run_log(svc: ReportService, user: str) -> None:
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
    for number, path in enumerate(Path(p) for p in run.files):
        if path.exists():
            st.download_button(markdown_text(path.name), path.read_bytes(), file_name=path.name,
                               key=f"file_{run.id}_{number}")
    template = svc.store.template_by_id(run.template_id)
    if template is not None and st.button("Re-run", key=f"rerun_{run.id}"):
        done = svc.run_now(template, by=user)
        st.info(f"Run #{done.id}: {done.state}")


def render() -> None:
    """Draw the Reports page."""
    st.title("Reports")
    try:
        user = current_user(services().settings)
        svc = reports()
    except CopilotError as exc:
        st.error(markdown_text(str(exc)))
        return
    if notice := st.session_state.pop("report_notice", None):
        st.success(markdown_text(notice))  # it names the report as its author typed it
    _templates(svc, user)
    with st.expander("New report"):
        _save(svc, "new_report", None, user)
    _run_log(svc, user)

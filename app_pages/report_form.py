"""The Reports page's form for a new or edited report template. It shows only the fields
that apply: the source field of the chosen source (a widget, an answer, a question or
SQL), the schedule fields of the chosen frequency and the alert fields of the chosen alert.

Not an st.form: a form's widgets reach the script only when it is submitted, so the fields
could not follow a choice made inside it. Each choice reruns the page instead; the report is
saved only when "Save" is clicked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time

import streamlit as st

from app_pages.state import dashboards
from copilot.core.plaintext import markdown_text
from reports import ReportService
from reports.channels import CHANNELS
from reports.model import DAYS, FORMATS, Alert, Recipients, ReportError, ReportTemplate, Schedule

__all__ = ["FREQUENCIES", "SOURCES", "report_form", "schedule_label"]

SOURCES = {"question": "A question", "widget": "A dashboard widget",
           "answer": "An answer of this session", "sql": "SQL"}
FREQUENCIES = ("daily", "weekly", "monthly", "cron")
_ALERTS = ("none", "threshold", "anomaly")
_OPS = (">", ">=", "<", "<=", "==")
# The model knows daily, weekly and cron: "monthly" is kept as the cron expression of one day
# of the month at a time, and read back from it when the report is edited.
_MONTHLY = re.compile(r"(\d{1,2}) (\d{1,2}) (\d{1,2}) \* \*")

# question, sql, relative (re-asked at each run, so its dates move), interpretation
Origin = tuple[str, str, bool, str]


@dataclass(frozen=True)
class _Source:
    kind: str
    value: object  # a widget's or answer's Origin, the question typed, or the SQL typed


def _monthly(schedule: Schedule) -> tuple[int, str] | None:
    """(day of month, HH:MM) of a cron schedule that is one day a month at a time, else None."""
    found = _MONTHLY.fullmatch(schedule.cron.strip()) if schedule.kind == "cron" else None
    if found is None:
        return None
    minute, hour, day = (int(p) for p in found.groups())
    if minute > 59 or hour > 23 or not 1 <= day <= 31:
        return None
    return day, f"{hour:02d}:{minute:02d}"


def schedule_label(schedule: Schedule) -> str:
    """The schedule as a person reads it: a monthly one says so rather than show its cron."""
    monthly = _monthly(schedule)
    if monthly is None:
        return schedule.label
    day, at = monthly
    return f"monthly on day {day} at {at} {schedule.timezone}"


def _origins() -> tuple[dict[str, Origin], dict[str, Origin]]:
    """Label -> Origin for the answers of this session and for dashboard widgets."""
    answers: dict[str, Origin] = {}
    for answer in st.session_state.get("ask_history", []):
        if answer.status == "answered" and answer.generated_sql:
            # A follow-up is kept as the whole question it stood for: the report re-asks
            # it with no conversation to read "then by book" in.
            question = answer.stands_for or answer.question
            answers[question] = (question, answer.generated_sql, answer.source == "engine",
                                 answer.interpretation)
    widgets: dict[str, Origin] = {}
    boards = dashboards()
    for board in boards.store.dashboards():
        for widget in boards.store.widgets(board.id):
            widgets[f"{board.name} / {widget.title}"] = (widget.question, widget.sql,
                                                         widget.relative, "")
    return answers, widgets


def _source_input(base: ReportTemplate, new: bool, key: str) -> _Source:
    if not new:  # an edited report keeps its source; its SQL is what may change
        if base.relative and base.question:
            st.caption(f"Re-asks \u201c{markdown_text(base.question)}\u201d at each run, so its "
                       "dates move with the day; edited SQL is run as written instead.")
        return _Source("sql", st.text_area("SQL (checked by the SQL guard)", value=base.sql,
                                           key=f"{key}_sql"))
    answers, widgets = _origins()
    offered = [k for k in SOURCES
               if (k != "answer" or answers) and (k != "widget" or widgets)]
    kind = st.segmented_control("From", offered, format_func=SOURCES.get, default=offered[0],
                                required=True, key=f"{key}_source") or offered[0]
    if kind == "widget":
        picked = st.selectbox("Widget", list(widgets), key=f"{key}_widget")
        return _Source(kind, widgets[picked])
    if kind == "answer":
        picked = st.selectbox("Answer", list(answers), key=f"{key}_answer")
        return _Source(kind, answers[picked])
    if kind == "question":
        return _Source(kind, st.text_input(
            "Question", key=f"{key}_question", placeholder="fails by counterparty this week",
            help="Asked when you save, and again at each run, so its dates move with the day."))
    return _Source(kind, st.text_area("SQL (checked by the SQL guard)", key=f"{key}_sql"))


def _origin(svc: ReportService, source: _Source, base: ReportTemplate, user: str) -> Origin:
    if source.kind in ("widget", "answer"):
        return source.value  # type: ignore[return-value]
    text = str(source.value).strip()
    if source.kind == "sql":
        # Edited SQL is run as written: re-asking the question would ignore the edit.
        relative = base.relative and text == base.sql.strip()
        return base.question, text, relative, base.interpretation
    if not text:
        raise ReportError("Type the question the report asks.")
    answer = svc.answering.ask(text, user=user, channel="report")
    if answer.status != "answered" or not answer.generated_sql:
        raise ReportError(f"\u201c{text}\u201d could not be answered, so it cannot be a "
                          f"report: {answer.interpretation}")
    return answer.question, answer.generated_sql, answer.source == "engine", answer.interpretation


def _schedule_input(current: Schedule, key: str) -> Callable[[], Schedule]:
    """The inputs of the chosen frequency; what makes their Schedule, called on Save (a
    missing or malformed input is then reported, not while it is being typed)."""
    monthly = _monthly(current)
    shown = "monthly" if monthly else current.kind
    kind = st.segmented_control("Schedule", FREQUENCIES, default=shown, required=True,
                                format_func=str.capitalize, key=f"{key}_kind") or shown
    hour, minute = (int(p) for p in (monthly[1] if monthly else current.at).split(":"))
    cells = st.columns(3)
    days: list[str] = []
    day = monthly[0] if monthly else 1
    if kind == "weekly":
        days = cells.pop(0).multiselect("Days", DAYS, default=list(current.days),
                                        key=f"{key}_days")
    elif kind == "monthly":
        day = cells.pop(0).number_input("Day of the month", min_value=1, max_value=31,
                                        value=day, key=f"{key}_day",
                                        help="Days 29 to 31 are skipped in months without them.")
    if kind == "cron":
        cron = cells.pop(0).text_input(
            "Cron (minute hour day month weekday)", value=current.cron, key=f"{key}_cron",
            help="For example 0 18 * * 1-5: 18:00, Monday to Friday.")
    else:
        at = cells.pop(0).time_input("At", value=time(hour, minute), key=f"{key}_at")
    zone = cells.pop(0).text_input("Time zone", value=current.timezone, key=f"{key}_tz").strip()
    weekdays = False
    if kind == "daily":  # weekly and monthly name their days, and a cron its weekdays
        weekdays = st.checkbox("Weekdays only", value=current.weekdays_only,
                               key=f"{key}_weekdays")
    if kind == "cron":
        return lambda: Schedule("cron", cron=cron.strip(), timezone=zone)
    if kind == "monthly":
        return lambda: Schedule("cron", cron=f"{at.minute} {at.hour} {int(day)} * *",
                                timezone=zone)
    return lambda: Schedule(kind, f"{at:%H:%M}", tuple(days),  # type: ignore[arg-type]
                            timezone=zone, weekdays_only=weekdays)


def _alert_input(current: Alert, key: str) -> Alert:
    kind = st.segmented_control("Alert", _ALERTS, default=current.kind, required=True,
                                format_func=str.capitalize, key=f"{key}_alert") or current.kind
    op, value, k, trailing, grace = (current.op, current.value, current.k, current.trailing,
                                     current.grace_minutes)
    if kind == "none":
        st.caption("Delivered at every run.")
        return Alert("none", op, value, k, trailing, grace)
    cells = st.columns(3)
    if kind == "threshold":
        op = cells[0].selectbox("When the value is", _OPS, index=_OPS.index(current.op),
                                key=f"{key}_op")
        value = cells[1].number_input("Threshold", value=float(current.value),
                                      key=f"{key}_value")
    else:
        k = cells[0].number_input("Standard deviations (k)", min_value=0.1,
                                  value=float(current.k), key=f"{key}_k")
        trailing = cells[1].number_input("Trailing runs", min_value=3, value=current.trailing,
                                         key=f"{key}_trailing")
    grace = cells[2].number_input("Grace (minutes)", min_value=0, value=current.grace_minutes,
                                  key=f"{key}_grace")
    return Alert(kind, op, float(value), float(k), int(trailing), int(grace))


def _lines(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.replace(",", "\n").splitlines() if p.strip())


def _recipients_input(current: Recipients, key: str) -> Callable[[], Recipients]:
    """One field per registered channel, two to a row, in the registry's order; what makes
    their Recipients, called on Save (each channel then checks its destinations)."""
    cells = st.columns(2)
    typed = {name: cells[n % 2].text_input(kind.label, value=", ".join(current[name]),
                                           placeholder=kind.hint, key=f"{key}_to_{name}")
             for n, (name, kind) in enumerate(CHANNELS.items())}
    return lambda: Recipients({name: _lines(text) for name, text in typed.items()})


def report_form(svc: ReportService, current: ReportTemplate | None, key: str,
                user: str) -> ReportTemplate | None:
    """The template the form describes when "Save" is clicked, else None; ReportError when
    what it describes is not a valid report."""
    base = current or ReportTemplate(name="new report", sql="SELECT 1")
    name = st.text_input("Name", value="" if current is None else base.name,
                         key=f"{key}_name")
    source = _source_input(base, current is None, key)
    formats = st.multiselect("Formats", FORMATS, default=list(base.formats),
                             key=f"{key}_formats")
    schedule = _schedule_input(base.schedule, key)
    recipients = _recipients_input(base.recipients, key)
    skip = st.checkbox("Skip when empty", value=base.skip_when_empty, key=f"{key}_skip")
    subject = st.text_input("Subject ({name} {rows} {as_of} {run_at} {value})",
                            value=base.subject, key=f"{key}_subject")
    body = st.text_area("Body ({interpretation} and the same fields)", value=base.body,
                        key=f"{key}_body")
    alert = _alert_input(base.alert, key)
    if not st.button("Save", type="primary", key=f"{key}_save"):
        return None
    question, sql, relative, interpretation = _origin(svc, source, base, user)
    return ReportTemplate(
        name=name, sql=sql, question=question, relative=relative,
        interpretation=interpretation, formats=tuple(formats), skip_when_empty=skip,
        schedule=schedule(),
        recipients=recipients(),
        subject=subject, body=body, alert=alert,
        paused=base.paused, id=base.id, created_by=base.created_by)

"""What can be done with an answer, in one row under it: its SQL (read, edit and re-run),
CSV and Excel downloads named for the question and date, Save as widget, Schedule as a
report, Correct and Wrong; then what was done (saved where, with a link; feedback thanks);
then the follow-up questions as one row of chips.

The popovers that cost a look-up (Save as widget lists the dashboards) are drawn only when
open (on_change="rerun"), so a rerun of the page does not pay for them."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from app_pages import conversation_view as talk
from app_pages import dashboards as dashboards_page
from app_pages import reports as reports_page
from app_pages.state import current_user, dashboards
from app_pages.widget_form import chart_input, refresh_input
from copilot.core.errors import CopilotError
from copilot.core.filenames import download_name
from copilot.core.plaintext import markdown_text
from copilot.core.tabular import csv_bytes, xlsx_bytes
from copilot.values import Answer
from copilot.wiring import Services
from dashboards import Refresh

__all__ = ["DASHBOARDS", "NEW_DASHBOARD", "REPORTS", "actions"]

NEW_DASHBOARD = "New dashboard…"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The pages as the app's navigation declares them (streamlit_app.py): a link or a switch to
# one names it by its url_path.
DASHBOARDS = st.Page(dashboards_page.render, title="Dashboards", url_path="dashboards")
REPORTS = st.Page(reports_page.render, title="Reports", url_path="reports")


def actions(svc: Services, answer: Answer, frame: pd.DataFrame, labels: tuple[str, ...],
            key: str, as_of: date) -> None:
    """The row of actions, what was done, and the follow-up chips."""
    notes: list[str] = []
    user = current_user(svc.settings)
    # Only what the person's roles allow is offered; the services refuse the rest anyway.
    may = {action: svc.answering.access.allows(user, action)
           for action in ("run own SQL", "save widgets", "schedule reports")}
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        _sql(svc, answer, key, editable=may["run own SQL"])
        frame = _full_result(svc, answer, frame, key, notes)
        _downloads(answer, frame, labels, key, as_of)
        if may["save widgets"]:
            _save_as_widget(svc, answer, key)
        if may["schedule reports"] and st.button(
                "Schedule", key=f"schedule_{key}", icon=":material/schedule_send:",
                help="Make it a report on the Reports page, sent on a schedule"):
            _schedule(answer)
        if answer.source != "user":
            _feedback_buttons(svc, answer, key)
    for note in notes:
        st.caption(note)
    _notice(key)
    if answer.follow_ups:
        st.pills("Follow up", answer.follow_ups, key=f"follow_{key}", format_func=markdown_text,
                 label_visibility="collapsed", on_change=_follow, args=(key,))


def _sql(svc: Services, answer: Answer, key: str, *, editable: bool) -> None:
    with st.popover("SQL", icon=":material/code:", help="The SQL as it ran; edit and re-run"):
        st.code(answer.sql or "", language="sql", wrap_lines=True)
        if not editable:
            return
        edited = st.text_area("Edit and re-run (checked by the SQL guard again)",
                              value=answer.sql or "", key=f"edit_{key}")
        if st.button("Re-run", key=f"rerun_{key}"):
            # Not a turn of the conversation: hand-written SQL has no reading a follow-up
            # could edit, so the next follow-up still edits the last question.
            talk.record(svc.answering.run_sql(edited, user=current_user(svc.settings)))


def _full_result(svc: Services, answer: Answer, frame: pd.DataFrame, key: str,
                 notes: list[str]) -> pd.DataFrame:
    """The whole result for the downloads when asked for (a cut answer shows the cap)."""
    if not answer.truncated or not st.button("Full result", key=f"full_{key}",
                                             icon=":material/expand_all:",
                                             help="Fetch every row for the downloads"):
        return frame
    try:
        whole = svc.answering.full_result(answer, user=current_user(svc.settings))
    except CopilotError as exc:
        notes.append(markdown_text(str(exc)))
        return frame
    notes.append(f"Full result: {whole.row_count:,} rows"
                 + (" (cut at 1,000,000)" if whole.truncated else "")
                 + ", in the CSV and Excel downloads.")
    return pd.DataFrame([list(r) for r in whole.rows], columns=list(whole.columns))


def _downloads(answer: Answer, frame: pd.DataFrame, labels: tuple[str, ...], key: str,
               as_of: date) -> None:
    # Through the one safe writer: a cell like =HYPERLINK(...) stays text, never a formula.
    # The headers are the labels the table shows; "ignore": a download need not rerun.
    title = answer.stands_for or answer.question
    headers = list(labels) if len(labels) == len(frame.columns) else list(frame.columns)
    rows = list(frame.itertuples(index=False, name=None))
    st.download_button("CSV", csv_bytes(headers, rows),
                       file_name=download_name(title, as_of, "csv"), mime="text/csv",
                       key=f"csv_{key}", icon=":material/download:", on_click="ignore")
    st.download_button("Excel", xlsx_bytes(headers, rows, sheet="answer"),
                       file_name=download_name(title, as_of, "xlsx"), mime=XLSX,
                       key=f"xlsx_{key}", icon=":material/download:", on_click="ignore")


def _save_as_widget(svc: Services, answer: Answer, key: str) -> None:
    saved = talk.for_saving(answer)
    opened = f"save_{key}"
    if st.session_state.get(talk.NOTICES, {}).get(key, {}).get("close"):
        st.session_state[opened] = False  # saved: close it, so the message under it shows
        st.session_state[talk.NOTICES][key]["close"] = False
    drawer = st.popover("Save as widget", icon=":material/dashboard_customize:", key=opened,
                        on_change="rerun")
    if not drawer.open:
        return
    with drawer:
        try:
            boards, user = dashboards(), current_user(svc.settings)
            # Only one's own dashboards: a widget reads its dashboard owner's rows.
            names = [d.name for d in boards.store.dashboards() if boards.may_change(d, user)]
        except CopilotError as exc:
            st.error(markdown_text(str(exc)))
            return
        # One choice: an existing dashboard, or a new one, its name asked for only then.
        options = [*names, NEW_DASHBOARD]
        board = st.selectbox("Dashboard", options, key=f"save_{key}_board",
                             index=0 if names else options.index(NEW_DASHBOARD))
        if board == NEW_DASHBOARD:
            board = st.text_input("Name of the new dashboard", key=f"save_{key}_new",
                                  placeholder="Desk B morning")
        title = st.text_input("Title", value=saved.question.strip()[:120],
                              key=f"save_{key}_title")
        chart = chart_input(f"save_{key}", answer.chart.kind)
        refresh = refresh_input(f"save_{key}", Refresh("minutes", 15), only_chosen=True)
        if st.button("Save", type="primary", key=f"save_{key}_go"):
            _save(svc, saved, key, (board or "").strip(), title, chart, refresh)


def _save(svc: Services, saved: Answer, key: str, board: str, title: str, chart: str,
          refresh: Refresh) -> None:
    if not board:
        st.error("Type the name of the new dashboard.")
        return
    try:
        widget = dashboards().save_answer(saved, dashboard=board, title=title, chart=chart,
                                          refresh=refresh, by=current_user(svc.settings))
    except CopilotError as exc:
        st.error(markdown_text(str(exc)))
        return
    how = ("it re-asks the question at each refresh" if widget.relative
           else "its SQL runs as saved")
    st.session_state.setdefault(talk.NOTICES, {})[key] = {
        "text": f"Saved {widget.title!r} to {board!r}; {how}.",
        "board": board, "close": True}
    st.session_state["dashboard_next"] = board  # the Dashboards page opens on it
    st.rerun()


def _notice(key: str) -> None:
    notice = st.session_state.get(talk.NOTICES, {}).get(key)
    if not notice:
        return
    st.success(markdown_text(notice["text"]), icon=":material/check_circle:")
    if notice.get("board"):
        st.page_link(DASHBOARDS, label=markdown_text(f"Open {notice['board']}"),
                     icon=":material/dashboard:")


def _schedule(answer: Answer) -> None:
    # The Reports page's new-report form, filled in with this answer (a follow-up as the
    # whole question it stood for: a report re-asks it with no conversation to read it in).
    st.session_state["new_report_source"] = "answer"
    st.session_state["new_report_answer"] = talk.for_saving(answer).question
    st.switch_page(REPORTS)


def _feedback_buttons(svc: Services, answer: Answer, key: str) -> None:
    if st.button("Correct", key=f"correct_{key}", icon=":material/thumb_up:",
                 help="Keep it as a verified pair: the same question is answered from it"):
        _feedback(svc, answer, key, True, "")
    with st.popover("Wrong", icon=":material/thumb_down:"):
        comment = st.text_input("What is wrong?", key=f"comment_{key}")
        if st.button("Mark as wrong", key=f"wrong_{key}"):
            _feedback(svc, answer, key, False, comment)


def _feedback(svc: Services, answer: Answer, key: str, correct: bool, comment: str) -> None:
    try:
        held = svc.answering.feedback(answer, correct=correct, comment=comment,
                                      user=current_user(svc.settings))
    except CopilotError as exc:
        st.error(markdown_text(str(exc)))
        return
    st.session_state.setdefault(talk.NOTICES, {})[key] = {"text": (
        f"Sent for approval (change #{held.id}): the pair is trained when a trainer other "
        "than you approves it on the Approvals page." if held is not None else
        "Thanks: saved as a verified pair; the same question is answered from it from now on."
        if correct else "Thanks: the answer is recorded as wrong.")}
    st.rerun()


def _follow(key: str) -> None:
    picked = st.session_state.get(f"follow_{key}")
    if picked:
        talk.ask_later(picked)

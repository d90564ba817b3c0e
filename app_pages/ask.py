"""Ask page: a conversation with the warehouse. Each answer shows what was understood (for a
follow-up, the whole question it stood for), the table, a chart, the SQL as it ran
(editable, through the guard again), downloads, follow-ups, drill-downs and feedback. Every
question, edit and feedback is audited by the services before it shows."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import streamlit as st

from app_pages import conversation_view as talk
from app_pages import training as training_page
from app_pages.charts import figure, group_labels, table_frame
from app_pages.state import current_user, dashboards, services
from app_pages.widget_form import chart_input, refresh_input
from copilot.engine.answer import Answer, plural
from copilot.errors import CopilotError
from copilot.plaintext import markdown_text
from copilot.services import Services
from copilot.tabular import csv_bytes, xlsx_bytes
from dashboards.model import Refresh

CHARTS = ("bar", "line", "pie", "table")
NEW_DASHBOARD = "New dashboard…"


def _chart(answer: Answer, data: pd.DataFrame, key: str) -> None:
    if answer.chart.series:
        talk.comparison(answer, data, key)
        return
    suggested = answer.chart.kind if answer.chart.kind in CHARTS else "table"
    if suggested == "table" or len(data.columns) < 2 or data.empty:
        return
    kind = st.radio("Chart", CHARTS, index=CHARTS.index(suggested), horizontal=True,
                    key=f"chart_{key}", label_visibility="collapsed")
    chart = figure(kind, _one_label(answer, data))
    if chart is not None:
        talk.plot(answer, chart, key)


def _one_label(answer: Answer, data: pd.DataFrame) -> pd.DataFrame:
    # Grouped by two things ('by platform, then by book'): one bar per row, labelled by both.
    value = answer.chart.y if answer.chart.y in data.columns else data.columns[-1]
    groups = list(data.columns[:list(data.columns).index(value)])
    if len(groups) < 2:
        return data
    return pd.DataFrame({" / ".join(groups): group_labels(data, groups), value: data[value]})


def _downloads(frame: pd.DataFrame, key: str) -> None:
    # Through the one safe writer: a cell like =HYPERLINK(...) stays text, never a formula.
    columns, rows = list(frame.columns), list(frame.itertuples(index=False, name=None))
    left, right = st.columns(2)
    left.download_button("CSV", csv_bytes(columns, rows), file_name="answer.csv",
                         mime="text/csv", key=f"csv_{key}")
    right.download_button("Excel", xlsx_bytes(columns, rows, sheet="answer"),
                          file_name="answer.xlsx",
                          mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                          key=f"xlsx_{key}")


def _show(svc: Services, answer: Answer, index: int) -> None:
    key = str(index)
    if answer.status != "answered":
        show = {"refused": st.warning, "clarify": st.info}.get(answer.status, st.error)
        # Everything an answer says may carry the question, data or the LLM's words (its
        # error and CANNOT ANSWER texts too): Markdown-escaped, so a link or an image beacon
        # in them stays text.
        show(markdown_text(answer.interpretation))
        for note in answer.notes:
            st.caption(markdown_text(note))
        if answer.status == "clarify":
            st.caption("Pick the question you meant; it is asked as a whole.")
        for number, suggestion in enumerate(answer.suggestions):
            # "afresh: HSBC" is how the engine is told a question starts anew; say it so.
            label = re.sub(r"^afresh:\s*", "New question: ", suggestion)
            if st.button(markdown_text(label), key=f"suggest_{key}_{number}"):
                talk.ask_next(suggestion)
        # A word it does not know: teach it on the Training page, the word prefilled there.
        for number, word in enumerate(answer.unused_words if answer.status == "refused" else ()):
            if st.button(markdown_text(f"Teach '{word}'"), key=f"teach_{key}_{number}",
                         icon=":material/school:"):
                st.session_state["teach_word"] = word
                st.switch_page(st.Page(training_page.render, title="Training", url_path="training"))
        return
    source = {"pair": "verified pair", "user": "your SQL",
              "llm": "written by the LLM"}.get(answer.source, "engine")
    if answer.source == "llm":
        st.badge("LLM-written, not verified", icon=":material/smart_toy:", color="orange")
    st.markdown(markdown_text(answer.interpretation))
    for note in answer.notes:
        st.caption(markdown_text(note))
    st.caption(f"{source} · confidence {answer.confidence:.0%} · {len(answer.rows):,} rows"
               + (" · cut at the row cap" if answer.truncated else "")
               + f" · {answer.total_ms:.0f} ms")
    frame = table_frame(answer.columns, answer.rows)
    talk.table(answer, frame, key)
    _chart(answer, frame, key)
    talk.rows_button(answer, key)
    with st.expander("SQL as it ran"):
        st.code(answer.sql or "", language="sql")
        edited = st.text_area("Edit and re-run (checked by the SQL guard again)",
                              value=answer.sql or "", key=f"edit_{key}")
        if st.button("Re-run", key=f"rerun_{key}"):
            # Not a turn of the conversation: hand-written SQL has no reading a follow-up
            # could edit, so the next follow-up still edits the last question.
            _record(svc.run_sql(edited, user=current_user(svc.settings)))
    if answer.truncated and st.button("Prepare the full result for download",
                                      key=f"full_{key}"):
        try:
            whole = svc.full_result(answer, user=current_user(svc.settings))
        except CopilotError as exc:
            st.error(markdown_text(str(exc)))
        else:
            frame = table_frame(whole.columns, whole.rows)
            st.caption(f"Full result: {whole.row_count:,} rows"
                       + (" (cut at 1,000,000)" if whole.truncated else ""))
    _downloads(frame, key)
    _save_as_widget(svc, answer, key)
    for number, follow_up in enumerate(answer.follow_ups):
        if st.button(markdown_text(follow_up), key=f"follow_{key}_{number}"):
            talk.ask_next(follow_up)
    if answer.source != "user":
        good, bad, comment = st.columns([1, 1, 4])
        note = comment.text_input("Comment", key=f"comment_{key}",
                                  label_visibility="collapsed", placeholder="What is wrong?")
        if good.button("Correct", key=f"correct_{key}"):
            _feedback(svc, answer, True, note)
        if bad.button("Wrong", key=f"wrong_{key}"):
            _feedback(svc, answer, False, note)


def _save_as_widget(svc: Services, answer: Answer, key: str) -> None:
    saved = talk.for_saving(answer)
    with st.popover("Save as widget", icon=":material/dashboard_customize:"):
        try:
            boards = dashboards()
        except CopilotError as exc:
            st.error(markdown_text(str(exc)))
            return
        names = [d.name for d in boards.store.dashboards()]
        with st.form(f"save_{key}"):
            picked = st.selectbox("Dashboard", [*names, NEW_DASHBOARD], key=f"save_{key}_board")
            new_name = st.text_input("New dashboard name", key=f"save_{key}_new")
            title = st.text_input("Title", value=saved.question.strip()[:120],
                                  key=f"save_{key}_title")
            chart = chart_input(f"save_{key}", answer.chart.kind)
            refresh = refresh_input(f"save_{key}", Refresh("minutes", 15))
            submitted = st.form_submit_button("Save", type="primary")
        if submitted:
            board = new_name if picked == NEW_DASHBOARD else picked
            try:
                widget = boards.save_answer(saved, dashboard=board, title=title, chart=chart,
                                            refresh=refresh, by=current_user(svc.settings))
            except CopilotError as exc:
                st.error(markdown_text(str(exc)))
            else:
                st.success(markdown_text(f"Saved {widget.title!r} to {board!r}")
                           + ("; it re-asks the question at each refresh." if widget.relative
                              else "; its SQL runs as saved."))


def _feedback(svc: Services, answer: Answer, correct: bool, comment: str) -> None:
    try:
        svc.feedback(answer, correct=correct, comment=comment,
                     user=current_user(svc.settings))
    except CopilotError as exc:
        st.error(markdown_text(str(exc)))
        return
    st.session_state["ask_notice"] = (
        "Thanks: saved as a verified pair; the same question is answered from it from now on."
        if correct else "Thanks: the answer is recorded as wrong.")
    st.rerun()


def _record(answer: Answer) -> None:
    st.session_state.setdefault("ask_history", []).append(answer)
    st.rerun()


def render() -> None:
    """Draw the Ask page."""
    st.title("Ask")
    try:
        svc = services()
        version = svc.trainer.require_trained()
        dashboards()  # the demo's dashboard is seeded on the first page load, not mid-answer
    except CopilotError as exc:
        st.warning(markdown_text(str(exc)))
        return
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    as_of: date = left.date_input("As of", value=svc.settings.effective_as_of(),
                                  key="ask_as_of")
    if right.button("New conversation", key="ask_new", icon=":material/add_comment:",
                    help="Clear the chat; the next question is read on its own."):
        talk.start_over()
        st.rerun()
    if notice := st.session_state.pop("ask_notice", None):
        st.success(notice)
    history: list[Answer] = st.session_state.setdefault("ask_history", [])
    for index, answer in enumerate(history):
        with st.chat_message("user"):
            talk.show_question(answer)
        with st.chat_message("assistant"):
            _show(svc, answer, index)
    things = [plural(e.name) for e in version.content.glossary.entities[:4]] if (
        version.content) else []
    prompt = f"Ask about {', '.join(things)}..." if things else "Ask a question..."
    question = st.chat_input(prompt, key="ask_input") or st.session_state.pop(
        "ask_pending", None)
    if question:  # typed, or a follow-up, a clarify option or a drill-down clicked
        try:
            with st.spinner("Answering…"):
                answer = svc.ask(question, as_of=as_of, user=current_user(svc.settings),
                                 conversation=talk.conversation())
        except CopilotError as exc:  # the audit could not be written: show nothing else
            st.error(markdown_text(str(exc)))
            return
        talk.remember(answer)
        _record(answer)

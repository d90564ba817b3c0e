"""What a conversation adds to the Ask page: the conversation kept in the browser session,
how a follow-up was read (under its question), drill-downs (a bar or a table row to the rows
behind it, a number to its rows) and a period comparison drawn as its two periods.

Each browser session keeps its own conversation in st.session_state: two tabs never read
each other's follow-ups, and the process-wide services stay free of per-user state."""

from __future__ import annotations

import math
import numbers
from dataclasses import replace

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app_pages.charts import compact, comparison_figure, period_name
from copilot.core.plaintext import markdown_text
from copilot.engine import drill_question
from copilot.values import Answer, Conversation

__all__ = ["HISTORY", "NOTICES", "PENDING", "ask_later", "ask_next", "comparison",
           "conversation", "drill_hint", "for_saving", "number", "plot", "record", "remember",
           "rows_button", "show_question", "start_over", "table"]

HISTORY, PENDING = "ask_history", "ask_pending"
CONVERSATION = "ask_conversation"
DRILLED = "ask_drilled"  # widget key -> the row a selection in it last asked about
NOTICES = "ask_notices"  # answer key -> what was done with it (saved as a widget, feedback)


def conversation() -> Conversation:
    """This browser session's conversation; a new one on its first question."""
    current = st.session_state.get(CONVERSATION)
    if not isinstance(current, Conversation):
        current = st.session_state[CONVERSATION] = Conversation.new()
    return current


def remember(answer: Answer) -> None:
    """`answer` as the conversation's next turn: what the next follow-up edits."""
    st.session_state[CONVERSATION] = conversation().after(answer)


def start_over() -> None:
    """A new conversation: the chat cleared, and no follow-up reads the old turns."""
    st.session_state[CONVERSATION] = Conversation.new()
    st.session_state[HISTORY] = []
    for name in (DRILLED, PENDING, NOTICES):
        st.session_state.pop(name, None)


def ask_later(question: str) -> None:
    """A button's on_click: `question` is asked in the run the click starts, as if typed
    (a callback runs before the script, so no second run is needed)."""
    st.session_state[PENDING] = question


def ask_next(question: str) -> None:
    """Ask `question` in the conversation on the next run, as if it had been typed."""
    ask_later(question)
    st.rerun()


def record(answer: Answer) -> None:
    """`answer` added to the chat outside the conversation (hand-edited SQL has no reading a
    follow-up could edit), drawn on the next run."""
    st.session_state.setdefault(HISTORY, []).append(answer)
    st.rerun()


def show_question(answer: Answer) -> None:
    """The question as asked and, for a follow-up, how it was read: the whole question it
    stands for, so a reader can tell what 'then by book' ran."""
    st.markdown(markdown_text(answer.question))
    if answer.changes:
        st.caption(markdown_text("Same as before, " + ", ".join(answer.changes)))
    if answer.stands_for:
        st.caption(markdown_text(f"Stands for: {answer.stands_for}"))


def for_saving(answer: Answer) -> Answer:
    """The answer as a widget or report keeps it: under the whole question it stood for. A
    saved 'then by book' is re-asked at each refresh with no conversation to read it in."""
    return replace(answer, question=answer.stands_for or answer.question)


def _groups_drill(answer: Answer) -> bool:
    """Whether a row of this grouped answer can be drilled into (the first row stands for
    all: the reading is the same, only the group's value differs)."""
    return (answer.status == "answered" and bool(answer.rows)
            and (answer.chart.kind in ("bar", "line", "pie") or bool(answer.chart.series))
            and drill_question(answer, 0) is not None)


def _drill_on(answer: Answer, widget: str, picked: list[int]) -> None:
    # A selection stays in its widget's state across reruns: ask once for each newly picked
    # row, not again at every rerun after it (nor for every older answer's old selection).
    drilled: dict[str, int] = st.session_state.setdefault(DRILLED, {})
    if not picked:
        drilled.pop(widget, None)
        return
    if drilled.get(widget) == picked[0]:
        return
    drilled[widget] = picked[0]
    text = drill_question(answer, picked[0])
    if text is None:
        st.toast("There are no rows to list behind that one.")
        return
    ask_next(text)


def table(answer: Answer, shown: pd.DataFrame, key: str, config: dict) -> None:
    """The answer's table (`shown`: labelled, NULL as "(none)"; `config`: its columns'
    formats); picking a row of a grouped answer asks for the rows behind it."""
    if not _groups_drill(answer):
        st.dataframe(shown, hide_index=True, column_config=config, key=f"df_{key}")
        return
    event = st.dataframe(shown, hide_index=True, column_config=config, key=f"df_{key}",
                         on_select="rerun", selection_mode="single-row")
    _drill_on(answer, f"df_{key}", list(event.selection.rows))


def drill_hint(answer: Answer) -> None:
    """Say that a bar or a row lists the rows behind it, when it does."""
    if _groups_drill(answer):
        st.caption("Click a bar or pick a row to list the rows behind it.")


def plot(answer: Answer, chart: go.Figure, key: str) -> None:
    """The answer's chart; clicking a bar (or a point, a slice) of a grouped answer asks for
    the rows behind it."""
    if not _groups_drill(answer):
        st.plotly_chart(chart, key=f"plot_{key}")
        return
    event = st.plotly_chart(chart, key=f"plot_{key}", on_select="rerun",
                            selection_mode="points")
    # Every trace of a figure here has one point per row, so a point's index is its row;
    # a pie reports its slice as point_number.
    picked = [p.get("point_index", p.get("point_number")) for p in event.selection.points]
    _drill_on(answer, f"plot_{key}", [p for p in picked if isinstance(p, int)])


def rows_button(answer: Answer, key: str) -> None:
    """A number answer's 'Show the rows': the rows it counted or added up."""
    if answer.chart.kind != "number" or answer.chart.series:
        return
    text = drill_question(answer, None)
    if text is not None:
        st.button("Show the rows", key=f"rows_{key}", icon=":material/table_rows:",
                  on_click=ask_later, args=(text,))


def comparison(answer: Answer, shown: pd.DataFrame, names: dict[str, str], key: str,
               config: dict) -> bool:
    """A period comparison: each group's two periods as bars side by side (the table in a
    tab beside them), or, with no group, the current value as a headline with its change
    and both numbers. `shown` is labelled, `names` each column's label; False when the
    answer is not shaped as a comparison."""
    current, previous = names.get(answer.chart.y or ""), names.get(answer.chart.series[0])
    columns = list(shown.columns)
    if current not in columns or previous not in columns:
        return False
    groups = columns[:columns.index(current)]
    if groups:
        chart_tab, table_tab = st.tabs(["Chart", "Table"])
        with chart_tab:
            drill_hint(answer)
            plot(answer, compact(comparison_figure(shown, groups, current, previous)), key)
        with table_tab:
            table(answer, shown, key, config)
        return True
    row = shown.iloc[0]
    change, pct = (row.get(names.get(name, name)) for name in ("change", "change_pct"))
    delta = None if _missing(change) else number(change, sign=True) + (
        "" if _missing(pct) else f" ({float(pct):+.1f}%)")
    now, before = st.columns(2)
    now.metric(markdown_text(period_name(current)), number(row[current]), delta=delta,
               border=True)
    before.metric(markdown_text(period_name(previous)), number(row[previous]), border=True)
    return True


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, numbers.Real) and math.isnan(float(value)))


def number(value: object, *, sign: bool = False) -> str:
    """A headline number: counts whole, amounts with two decimals, thousands separated."""
    # numbers.* rather than int/float: a pandas row holds numpy's numbers.
    if _missing(value):
        return "–"
    if isinstance(value, numbers.Integral):
        return f"{int(value):+,}" if sign else f"{int(value):,}"
    if isinstance(value, numbers.Real):
        number = float(value)
        if number.is_integer():
            return f"{int(number):+,}" if sign else f"{int(number):,}"
        return f"{number:+,.2f}" if sign else f"{number:,.2f}"
    return markdown_text(str(value))

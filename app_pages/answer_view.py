"""An answer's result on the Ask page: the headline number, or the chart and the table in
two tabs (a list, the table alone). Columns carry their labels ("Counterparty", "Amount
(USD)") in the table, on the chart's axes and in the downloads' headers, and an empty value
(NULL) reads "(none)" in the table and on the chart alike."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import conversation_view as talk
from app_pages.charts import column_config, compact, figure, group_labels, with_none
from copilot.core.plaintext import markdown_text
from copilot.engine import column_labels
from copilot.values import CHART_KINDS, Answer

__all__ = ["labels_of", "result"]

CHARTS = tuple(k for k in CHART_KINDS if k not in ("table", "number"))  # drawn as charts
_SERIES = ("day", "week", "month")


def labels_of(answer: Answer) -> tuple[str, ...]:
    """One label per column, each once: an answer with no labels of its own (edited SQL) is
    labelled from its column names; a repeated label gets a number (a table needs unique
    headers)."""
    labels = answer.labels if len(answer.labels) == len(answer.columns) else column_labels(
        answer.columns, None, None)
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return tuple(unique)


def result(answer: Answer, frame: pd.DataFrame, key: str) -> None:
    """The headline number, the comparison, or the chart and table of `answer`."""
    names = dict(zip(answer.columns, labels_of(answer), strict=True))
    shown = with_none(frame).rename(columns=names)
    config = {names[c]: setting for c, setting in column_config(frame).items()}
    if frame.empty:
        st.info("No rows: nothing matches the question.", icon=":material/search_off:")
        return
    if answer.chart.series and talk.comparison(answer, shown, names, key, config):
        return
    if answer.chart.kind == "number" and frame.shape == (1, 1):
        with st.container(horizontal=True, vertical_alignment="bottom"):
            st.metric(markdown_text(shown.columns[0]), talk.number(frame.iat[0, 0]),
                      border=True, width="content")
            talk.rows_button(answer, key)
        return
    kinds = _kinds(answer, frame)
    if not kinds:
        talk.table(answer, shown, key, config)
        return
    chart_tab, table_tab = st.tabs(["Chart", "Table"])
    with chart_tab:
        _chart(answer, shown, names, kinds, key)
    with table_tab:
        talk.table(answer, shown, key, config)


def _kinds(answer: Answer, frame: pd.DataFrame) -> tuple[str, ...]:
    """The charts this answer may be drawn as; none for a list or a single column. A pie
    only when its slices make the whole: not for the top 5, a rate or an average (whose
    parts do not add up), groups kept by a HAVING, a cut result, or a series in time."""
    if answer.chart.kind not in CHARTS or len(frame.columns) < 2:
        return ()
    plan, values = answer.plan, frame[frame.columns[-1]]
    whole = not answer.truncated and bool(
        pd.api.types.is_numeric_dtype(values) and (values.fillna(0) >= 0).all())
    if plan is not None:
        whole = whole and plan.limit is None and not plan.having and \
            plan.measure.kind in ("count", "sum") and \
            not any(d.bucket in _SERIES for d in plan.dimensions)
    return CHARTS if whole else ("bar", "line")


def _chart(answer: Answer, shown: pd.DataFrame, names: dict[str, str],
           kinds: tuple[str, ...], key: str) -> None:
    asked = answer.chart.kind
    suggested = asked if asked in kinds else "bar"
    with st.container(horizontal=True, vertical_alignment="center", gap="medium"):
        kind = st.radio("Chart", kinds, index=kinds.index(suggested), horizontal=True,
                        key=f"chart_{key}", label_visibility="collapsed", width="content")
        if asked == "pie" and "pie" not in kinds:
            st.caption("Drawn as bars: these parts are not the whole, so a pie would mislead.")
        talk.drill_hint(answer)
    chart = figure(kind, _one_label(answer, shown, names))
    if chart is not None:
        talk.plot(answer, compact(chart), key)


def _one_label(answer: Answer, shown: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    # Grouped by two things ('by platform, then by book'): one bar per row, labelled by both.
    value = names.get(answer.chart.y or "", shown.columns[-1])
    if value not in shown.columns:
        value = shown.columns[-1]
    groups = list(shown.columns[:list(shown.columns).index(value)])
    if len(groups) < 2:
        return shown
    return pd.DataFrame({" / ".join(groups): group_labels(shown, groups), value: shown[value]})

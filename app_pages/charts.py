"""Plotly figures for a result table, shared by the Ask and Dashboards pages: the first
column on the x axis (or as pie slices), the last column as the value; and a period
comparison's two periods side by side."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from copilot.plaintext import plotly_text

__all__ = ["column_config", "comparison_figure", "figure", "group_labels", "period_name",
           "table_frame"]


def table_frame(columns: tuple[str, ...], rows: tuple[tuple[object, ...], ...]) -> pd.DataFrame:
    return pd.DataFrame([list(r) for r in rows], columns=list(columns))


def figure(kind: str, data: pd.DataFrame, *, height: int | None = None) -> go.Figure | None:
    """The chart of `data`, or None when it cannot be drawn (a table, one column, no rows).

    Built with graph_objects rather than plotly.express, which costs ~50 ms a figure: a
    12-widget dashboard would spend most of its render there.
    """
    if kind not in ("bar", "line", "pie") or len(data.columns) < 2 or data.empty:
        return None
    x, y = data.columns[0], data.columns[-1]
    labels, values = _plain(data[x]), _plain(data[y])
    if kind == "pie":
        chart = go.Figure(go.Pie(labels=labels, values=values, sort=False))
    else:
        trace = (go.Bar(x=labels, y=values) if kind == "bar"
                 else go.Scatter(x=labels, y=values, mode="lines+markers"))
        chart = go.Figure(trace)
        chart.update_layout(xaxis_title=plotly_text(str(x)), yaxis_title=plotly_text(str(y)))
    if height:
        chart.update_layout(height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return chart


def group_labels(data: pd.DataFrame, columns: list[str]) -> pd.Series:
    """One label per row from its group columns: "MARKITWIRE · RATES-LDN" when an answer is
    grouped by two things, so each bar is one row (plotly would stack repeated categories)."""
    if len(columns) == 1:
        return data[columns[0]]
    return data[columns].astype(str).agg(" \u00b7 ".join, axis=1)


def comparison_figure(data: pd.DataFrame, groups: list[str], current: str, previous: str,
                      *, height: int | None = None) -> go.Figure:
    """Both periods of each group as bars side by side, the period names as the legend; the
    earlier period first, so the bars read left to right in time. A bar's point index is its
    row in `data`, in either trace."""
    labels = _plain(group_labels(data, groups))
    chart = go.Figure([go.Bar(name=plotly_text(period_name(name)), x=labels, y=data[name])
                       for name in (previous, current)])
    chart.update_layout(barmode="group", legend_title_text="",
                        xaxis_title=plotly_text(" / ".join(groups)))
    if height:
        chart.update_layout(height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return chart


def period_name(column: str) -> str:
    """A measure column as a period's name in a legend or label: its words, not its
    underscores ("count_last_month" reads "count last month")."""
    return column.replace("_", " ").strip() or column


def _plain(values: pd.Series) -> pd.Series:
    # A counterparty named '<a href="http://evil">x</a>' would be a live link on the axis, in
    # the hover and on a pie slice; numbers and dates pass untouched to keep their axis type.
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return values
    return values.map(lambda v: plotly_text(v) if isinstance(v, str) else v)


def column_config(frame: pd.DataFrame) -> dict:
    """Thousands separators; two decimals for amounts; a % sign for rates."""
    config = {}
    for name in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[name]) or name.endswith("_id"):
            continue
        lowered = name.lower()
        if "rate" in lowered or "pct" in lowered:
            config[name] = st.column_config.NumberColumn(format="%.2f%%")
        elif pd.api.types.is_float_dtype(frame[name]) or any(
            w in lowered for w in ("amount", "notional", "usd")
        ):
            config[name] = st.column_config.NumberColumn(format="%,.2f")
        else:
            config[name] = st.column_config.NumberColumn(format="%,d")
    return config

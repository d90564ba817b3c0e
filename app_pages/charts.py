"""Plotly figures for a result table, shared by the Ask and Dashboards pages: the first
column on the x axis (or as pie slices), the last column as the value; and a period
comparison's two periods side by side.

Axes read as the data: a day, week or month series on a date axis (ticks on whole days or
months, never hours), counts on an integer axis (no 0.5 ticks), and an empty group (NULL)
shown as "(none)", as the table beside the chart shows it."""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from itertools import pairwise

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from copilot.core.plaintext import plotly_text
from copilot.engine.labels import NONE

__all__ = ["column_config", "compact", "comparison_figure", "figure", "group_labels",
           "period_name", "table_frame", "with_none"]

DAY_MS = 86_400_000
# A date as a bucket holds it: a day or a week's Monday ("2026-11-02"), a month ("2026-11"),
# or a timestamp at midnight (a DATE cast back by a driver).
_DATE = re.compile(r"\d{4}-\d{2}(?:-\d{2}(?:[ T]00:00(?::00)?)?)?")
_MOST_TICKS = 12


def table_frame(columns: tuple[str, ...], rows: tuple[tuple[object, ...], ...]) -> pd.DataFrame:
    return pd.DataFrame([list(r) for r in rows], columns=list(columns))


def with_none(data: pd.DataFrame) -> pd.DataFrame:
    """NULL as "(none)" in text and date columns; numbers keep their type (and so their
    formatting, sorting and place on an axis)."""
    shown = data.copy()
    for name in shown.columns:
        column = shown[name]
        if not pd.api.types.is_numeric_dtype(column) and column.isna().any():
            shown[name] = column.astype(object).where(column.notna(), NONE)
    return shown


def figure(kind: str, data: pd.DataFrame, *, height: int | None = None) -> go.Figure | None:
    """The chart of `data`, or None when it cannot be drawn (a table, one column, no rows).

    Built with graph_objects rather than plotly.express, which costs ~50 ms a figure: a
    12-widget dashboard would spend most of its render there.
    """
    if kind not in ("bar", "line", "pie") or len(data.columns) < 2 or data.empty:
        return None
    x, y = data.columns[0], data.columns[-1]
    values = data[y]
    dates = None if kind == "pie" else _dates(data[x])
    labels = dates if dates is not None else _plain(_none(data[x]))
    if kind == "pie":
        chart = go.Figure(go.Pie(labels=labels, values=values, sort=False))
    else:
        trace = (go.Bar(x=labels, y=values) if kind == "bar"
                 else go.Scatter(x=labels, y=values, mode="lines+markers"))
        chart = go.Figure(trace)
        chart.update_layout(xaxis_title=plotly_text(str(x)), yaxis_title=plotly_text(str(y)))
        if dates is not None:
            chart.update_xaxes(**_date_ticks(dates))
        chart.update_yaxes(**_value_ticks(values))
    _size(chart, height)
    return chart


def compact(chart: go.Figure, height: int = 360) -> go.Figure:
    """A chart at the height of an answer, its margins just wide enough for its axes."""
    chart.update_layout(height=height, margin={"l": 8, "r": 8, "t": 24, "b": 8})
    chart.update_xaxes(automargin=True)
    chart.update_yaxes(automargin=True)
    return chart


def _size(chart: go.Figure, height: int | None) -> None:
    if height:
        chart.update_layout(height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10})


def _none(values: pd.Series) -> pd.Series:
    # An empty group is a bar of its own, named as the table names it; numbers stay numbers.
    if pd.api.types.is_numeric_dtype(values) or not values.isna().any():
        return values
    return values.astype(object).where(values.notna(), NONE)


def _dates(values: pd.Series) -> pd.Series | None:
    """The values as dates when every one is a date (a day, week or month bucket), else
    None: plotly would read "2026-11-02" strings as a date axis with hourly ticks."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return None if values.isna().any() else values
    if values.empty or values.isna().any() or not all(_is_date(v) for v in values):
        return None
    try:
        return pd.to_datetime(values.map(lambda v: str(v)[:10]), format="mixed")
    except (ValueError, TypeError):
        return None


def _is_date(value: object) -> bool:
    # A driver may return a bucket as a date (PostgreSQL) or as text (SQLite).
    if isinstance(value, datetime):
        return value.time() == datetime.min.time()
    return isinstance(value, date) or (isinstance(value, str) and bool(_DATE.fullmatch(value)))


def _date_ticks(dates: pd.Series) -> dict[str, object]:
    """Whole days, weeks or months as the series steps, at most a dozen ticks."""
    ordered = sorted(set(dates))
    gaps = [(b - a).days for a, b in pairwise(ordered)]
    step = min(gaps) if gaps else 1
    first, span = ordered[0], (ordered[-1] - ordered[0]).days
    if step >= 28 or (not gaps and first.day == 1):  # months
        months = round(span / 30.4) + 1
        return {"type": "date", "tick0": first, "tickformat": "%b %Y",
                "dtick": f"M{max(1, math.ceil(months / _MOST_TICKS))}"}
    unit = 7 if step >= 7 else 1  # weeks (their Mondays), else days
    every = max(1, math.ceil((span / unit + 1) / _MOST_TICKS))
    return {"type": "date", "tick0": first, "tickformat": "%d %b",
            "dtick": unit * every * DAY_MS}


def _value_ticks(values: pd.Series) -> dict[str, object]:
    """Whole numbers on a count's axis: no 0.5 between 0 and 1, thousands separated."""
    if not pd.api.types.is_integer_dtype(values):
        return {}
    top = values.abs().max()
    ticks: dict[str, object] = {"tickformat": ",d"}
    if pd.notna(top) and top <= 10:
        ticks.update(tick0=0, dtick=1)
    return ticks


def group_labels(data: pd.DataFrame, columns: list[str]) -> pd.Series:
    """One label per row from its group columns: "MARKITWIRE · RATES-LDN" when an answer is
    grouped by two things, so each bar is one row (plotly would stack repeated categories)."""
    if len(columns) == 1:
        return _none(data[columns[0]])
    return data[columns].astype(object).where(data[columns].notna(), NONE).astype(str).agg(
        " \u00b7 ".join, axis=1)


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
    chart.update_yaxes(**_value_ticks(pd.concat([data[previous], data[current]])))
    _size(chart, height)
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

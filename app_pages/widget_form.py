"""The inputs a widget is configured with, shared by "Save as widget" on the Ask page and
"Edit" on the Dashboards page."""

from __future__ import annotations

from datetime import time

import streamlit as st

from copilot.values import CHART_KINDS, ChartKind
from dashboards import Refresh

__all__ = ["chart_input", "refresh_input"]

_EVERY = {"manual": "Manual", "minutes": "Every N minutes", "daily": "Daily at a time"}


def chart_input(key: str, current: str) -> ChartKind:
    index = CHART_KINDS.index(current) if current in CHART_KINDS else CHART_KINDS.index("table")
    return st.selectbox("Chart", CHART_KINDS, index=index, key=f"{key}_chart")


def refresh_input(key: str, current: Refresh, *, only_chosen: bool = False) -> Refresh:
    """Manual, every N minutes or daily at HH:MM; the inputs not chosen are ignored.

    `only_chosen` shows the input of the chosen kind alone: for a page where the choice
    reruns the script. Inside an st.form it does not (its widgets reach the script only on
    submit), so a form shows both inputs."""
    kinds = tuple(_EVERY)
    kind = st.radio("Refresh", kinds, index=kinds.index(current.kind), horizontal=True,
                    format_func=_EVERY.get, key=f"{key}_refresh")
    left, right = (st, st) if only_chosen else st.columns(2)
    minutes: float = current.minutes or 15
    if not only_chosen or kind == "minutes":
        minutes = left.number_input("Minutes", min_value=1, max_value=1440,
                                    value=current.minutes or 15, key=f"{key}_minutes")
    hour, minute = (int(p) for p in (current.at or "07:00").split(":"))
    at = time(hour, minute)
    if not only_chosen or kind == "daily":
        at = right.time_input("Daily at", value=at, key=f"{key}_at")
    if kind == "minutes":
        return Refresh("minutes", int(minutes))
    return Refresh("daily", at=f"{at:%H:%M}") if kind == "daily" else Refresh()

"""Dashboards and their widgets as plain values: what a widget asks, how it is drawn and how
often it refreshes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from copilot.core.errors import CopilotError
from copilot.values import CHART_KINDS, ChartKind

__all__ = ["Dashboard", "DashboardError", "Refresh", "Widget"]



class DashboardError(CopilotError):
    """A dashboard or widget is malformed, missing or refused; the message says which."""


@dataclass(frozen=True)
class Refresh:
    """Manual, every N minutes, or daily at HH:MM (the app's local time)."""

    kind: Literal["manual", "minutes", "daily"] = "manual"
    minutes: int = 0
    at: str = ""

    def __post_init__(self) -> None:
        if self.kind == "minutes" and not 1 <= self.minutes <= 24 * 60:
            raise DashboardError("A refresh every N minutes needs N between 1 and 1440.")
        if self.kind == "daily" and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", self.at):
            raise DashboardError(f"A daily refresh needs a time as HH:MM, not {self.at!r}.")
        if self.kind not in ("manual", "minutes", "daily"):
            raise DashboardError(f"Unknown refresh {self.kind!r}: manual, minutes or daily.")

    def ttl_seconds(self, now: datetime) -> float | None:
        """How long a result stays fresh from `now`; None: until someone refreshes it."""
        if self.kind == "minutes":
            return self.minutes * 60.0
        if self.kind == "daily":
            hour, minute = (int(p) for p in self.at.split(":"))
            due = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
            if due <= now:
                due += timedelta(days=1)
            return (due - now).total_seconds()
        return None

    def rerun_seconds(self) -> int | None:
        """How often an open page re-checks the widget (the cache decides if it queries)."""
        return {"minutes": self.minutes * 60, "daily": 60}.get(self.kind)

    @property
    def label(self) -> str:
        if self.kind == "minutes":
            return f"every {self.minutes} min"
        return f"daily at {self.at}" if self.kind == "daily" else "manual"

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "minutes": self.minutes, "at": self.at}


@dataclass(frozen=True)
class Widget:
    """A saved answer. `relative` widgets re-ask their question at each refresh, so "this
    week" is always this week; the others run `sql` as saved (edited SQL is fixed)."""

    dashboard_id: int
    title: str
    question: str
    sql: str  # as it ran, in the warehouse's dialect
    relative: bool
    chart: ChartKind = "table"
    refresh: Refresh = Refresh()
    profile_version: str = ""
    position: int = 0
    id: int | None = None
    updated_at: str = ""

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise DashboardError("A widget needs a title.")
        if self.chart not in CHART_KINDS:
            raise DashboardError(f"Unknown chart {self.chart!r}: one of {', '.join(CHART_KINDS)}.")
        if not self.sql.strip():
            raise DashboardError(f"The widget {self.title!r} has no SQL.")


@dataclass(frozen=True)
class Dashboard:
    id: int
    name: str
    created_by: str
    created_at: str

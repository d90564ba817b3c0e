"""The demo's "Ops morning check": what an OTC ops desk opens first thing, built from plain
questions on first launch of the embedded demo."""

from __future__ import annotations

from copilot.values import ChartKind
from dashboards.model import Refresh

__all__ = ["MORNING_CHECK", "MORNING_CHECK_WIDGETS"]

MORNING_CHECK = "Ops morning check"
MORNING_CHECK_WIDGETS: tuple[tuple[str, str, ChartKind, Refresh], ...] = (
    ("Fails today by counterparty", "fails today by counterparty", "bar",
     Refresh("minutes", 15)),
    ("Unconfirmed trades by age", "unconfirmed trades by age bucket", "bar",
     Refresh("minutes", 30)),
    ("Open exceptions by priority", "open exceptions by priority", "pie",
     Refresh("minutes", 15)),
    ("Netting breaks this week", "how many netting breaks this week", "number",
     Refresh("minutes", 30)),
    ("Fail rate trend, 30 days", "daily fail rate over the last 30 days", "line",
     Refresh("daily", at="07:00")),
    ("Pending settlements, next 5 days, by currency",
     "pending settlement amount by currency for the next 5 days", "bar",
     Refresh("minutes", 60)),
)

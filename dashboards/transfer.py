"""A dashboard as a JSON document, and back: what moves a dashboard between environments
(UAT to production) or desks. On import every widget's SQL passes the guard again, and one
refusal imports nothing."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from copilot.core.guard import Verdict
from dashboards.model import Dashboard, DashboardError, Refresh, Widget

__all__ = ["FORMAT", "dashboard_json", "read_dashboard_json"]

FORMAT = "otc-ops-copilot/dashboard"
MAX_IMPORT_BYTES = 2_000_000


def dashboard_json(dashboard: Dashboard, widgets: Sequence[Widget]) -> str:
    return json.dumps({
        "format": FORMAT, "version": 1, "name": dashboard.name,
        "exported_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "widgets": [{"title": w.title, "question": w.question, "sql": w.sql,
                     "relative": w.relative, "chart": w.chart, "refresh": w.refresh.as_dict()}
                    for w in widgets],
    }, indent=2, ensure_ascii=False)


def read_dashboard_json(text: str | bytes, check: Callable[[str], Verdict]
                        ) -> tuple[str, list[Widget]]:
    """The dashboard's name and widgets (dashboard_id 0, to be set), each widget's SQL
    allowed by `check`; DashboardError naming the first problem otherwise."""
    if len(text) > MAX_IMPORT_BYTES:
        raise DashboardError("The file is larger than 2 MB; it is not a dashboard export.")
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise DashboardError("The file is not JSON; export a dashboard to see the format.") \
            from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DashboardError(f"The file is not a dashboard export (format {FORMAT!r}).")
    items = data.get("widgets")
    if not isinstance(items, list):
        raise DashboardError("The export has no list of widgets.")
    widgets = [_widget(number, item, check) for number, item in enumerate(items, start=1)]
    return str(data.get("name") or "Imported dashboard"), widgets


def _widget(number: int, item: Any, check: Callable[[str], Verdict]) -> Widget:
    if not isinstance(item, dict):
        raise DashboardError(f"Widget {number} is not an object.")
    title = str(item.get("title") or f"widget {number}")
    try:
        refresh = Refresh(**item.get("refresh", {"kind": "manual"}))
        widget = Widget(dashboard_id=0, title=title, question=str(item.get("question", "")),
                        sql=str(item.get("sql", "")), relative=bool(item.get("relative")),
                        chart=item.get("chart", "table"), refresh=refresh)
    except TypeError as exc:
        raise DashboardError(f"Widget {number} ({title!r}) is malformed: {exc}.") from None
    verdict = check(widget.sql)
    if not verdict.allowed:
        raise DashboardError(f"Widget {number} ({title!r}) was refused by the SQL guard: "
                             f"{verdict.reason} Nothing was imported.")
    return widget

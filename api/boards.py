"""GET /reports, POST /reports/{id}/run, GET /dashboards and GET /dashboards/{id}/widgets:
the Reports and Dashboards pages' reads and "Run now", through the same services and
checks (a report runs only for its owner; a widget reads its dashboard owner's rows)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder

from api.caller import Who
from api.calls import API_PREFIX
from api.errors import NotFound
from dashboards.service import DashboardService
from reports.model import ReportRun
from reports.service import ReportService

__all__ = ["board_routes"]


def _run_json(run: ReportRun) -> dict[str, Any]:
    data = dataclasses.asdict(run)
    data["files"] = [Path(f).name for f in run.files]  # the server's folders stay its own
    return jsonable_encoder(data)


def board_routes(reports: ReportService, dashboards: DashboardService, *,
                 today: Callable[[], date]) -> APIRouter:
    """The routes over `reports` and `dashboards`; `today()` the default day a widget's
    question is about (the configured as-of date, else today)."""
    router = APIRouter(prefix=API_PREFIX)
    access, recorder = dashboards.access, dashboards.recorder

    @router.get("/reports", tags=["reports"], summary="Report templates")
    def list_reports(who: Who) -> list[dict[str, Any]]:
        # The Reports page is open to those who may view dashboards (and schedule reports).
        access.check(who.user, "view dashboards", "report list (api)", recorder=recorder)
        return [jsonable_encoder({
            "id": t.id, "name": t.name, "question": t.question, "paused": t.paused,
            "schedule": dataclasses.asdict(t.schedule), "formats": list(t.formats),
            "created_by": t.created_by, "updated_at": t.updated_at,
            "may_run": reports.may_change(t, who.user)}) for t in reports.store.templates()]

    @router.post("/reports/{report_id}/run", tags=["reports"],
                 summary="Run a report now and deliver it")
    def run_report(report_id: int, who: Who) -> dict[str, Any]:
        template = reports.store.template_by_id(report_id)
        if template is None:
            # The check first: whoever may not run reports learns nothing of which exist.
            access.check(who.user, "schedule reports", f"run report #{report_id} (api)",
                         recorder=recorder)
            raise NotFound(f"There is no report #{report_id}; GET /api/v1/reports lists them.")
        return _run_json(reports.run_now(template, by=who.user))

    @router.get("/dashboards", tags=["dashboards"], summary="Dashboards")
    def list_dashboards(who: Who) -> list[dict[str, Any]]:
        access.check(who.user, "view dashboards", "dashboard list (api)", recorder=recorder)
        return [{"id": d.id, "name": d.name, "created_by": d.created_by,
                 "created_at": d.created_at,
                 "widgets": len(dashboards.store.widgets(d.id))}
                for d in dashboards.store.dashboards()]

    @router.get("/dashboards/{dashboard_id}/widgets", tags=["dashboards"],
                summary="Each widget's current result (cached while fresh)")
    def widgets(dashboard_id: int, who: Who, as_of: date | None = None,
                refresh: bool = False) -> dict[str, Any]:
        access.check(who.user, "view dashboards", f"dashboard #{dashboard_id} (api)",
                     recorder=recorder)
        board = next((d for d in dashboards.store.dashboards() if d.id == dashboard_id), None)
        if board is None:
            raise NotFound(f"There is no dashboard #{dashboard_id}; GET /api/v1/dashboards "
                           "lists them.")
        day = as_of or today()
        shown = []
        for widget in dashboards.store.widgets(dashboard_id):
            result, cached = dashboards.refresh(widget, as_of=day, by=who.user, force=refresh)
            shown.append({
                "id": widget.id, "title": widget.title, "question": widget.question,
                "chart": widget.chart, "refresh": widget.refresh.label, "cached": cached,
                "result": dataclasses.asdict(result)})
        return jsonable_encoder({"id": board.id, "name": board.name, "as_of": day,
                                 "widgets": shown})

    return router

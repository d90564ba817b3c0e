"""Dashboards, widgets and the last values of number widgets, in the app's state database.

Widgets are SQL rows; their chart configuration and refresh interval are JSON columns, so
adding a chart option later needs no migration.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from copilot.core.statedb import now_text, state_engine
from dashboards.model import Dashboard, DashboardError, Refresh, Widget

__all__ = ["DashboardStore"]

_metadata = MetaData()
_dashboards = Table(
    "dashboards", _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(120), nullable=False, unique=True),
    Column("created_by", String(128), nullable=False),
    Column("created_at", String(32), nullable=False),
)
_widgets = Table(
    "dashboard_widgets", _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dashboard_id", Integer, ForeignKey("dashboards.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("title", String(200), nullable=False),
    Column("question", Text, nullable=False),
    Column("sql", Text, nullable=False),
    Column("relative", Boolean, nullable=False),
    Column("chart", Text, nullable=False),  # JSON: {"kind": "bar"}
    Column("refresh", Text, nullable=False),  # JSON: Refresh.as_dict()
    Column("profile_version", String(80), nullable=False, default=""),
    Column("updated_at", String(32), nullable=False),
)
_values = Table(
    "widget_values", _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("widget_id", Integer, nullable=False, index=True),
    Column("refreshed_at", String(32), nullable=False),
    Column("value", Float, nullable=False),
)


class DashboardStore:
    def __init__(self, state_url: str) -> None:
        self._engine = state_engine(state_url)
        _metadata.create_all(self._engine)

    # ---- dashboards --------------------------------------------------------------------

    def dashboards(self) -> list[Dashboard]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(_dashboards)).all()
        # Sorted here, by code point: a database's collation (en_US on many PostgreSQL
        # servers) would order names differently from SQLite.
        return sorted((Dashboard(r.id, r.name, r.created_by, r.created_at) for r in rows),
                      key=lambda d: d.name)

    def dashboard(self, name: str) -> Dashboard | None:
        return next((d for d in self.dashboards() if d.name == name), None)

    def create_dashboard(self, name: str, *, by: str) -> Dashboard:
        name = " ".join(name.split())
        if not name or len(name) > 120:
            raise DashboardError("A dashboard needs a name of 1 to 120 characters.")
        created_at = now_text()
        try:
            with self._engine.begin() as conn:
                new_id = conn.execute(insert(_dashboards).values(
                    name=name, created_by=by, created_at=created_at)).inserted_primary_key[0]
        except IntegrityError:
            raise DashboardError(f"A dashboard named {name!r} already exists.") from None
        return Dashboard(new_id, name, by, created_at)

    def delete_dashboard(self, dashboard_id: int) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(_widgets).where(_widgets.c.dashboard_id == dashboard_id))
            conn.execute(delete(_dashboards).where(_dashboards.c.id == dashboard_id))

    # ---- widgets -----------------------------------------------------------------------

    def owner(self, dashboard_id: int) -> str | None:
        """Who created the dashboard: whose rows its widgets show."""
        return next((d.created_by for d in self.dashboards() if d.id == dashboard_id), None)

    def widgets(self, dashboard_id: int) -> list[Widget]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(_widgets).where(_widgets.c.dashboard_id == dashboard_id)
                                .order_by(_widgets.c.position, _widgets.c.id)).all()
        return [_widget(r) for r in rows]

    def widget(self, widget_id: int) -> Widget:
        with self._engine.connect() as conn:
            row = conn.execute(select(_widgets).where(_widgets.c.id == widget_id)).first()
        if row is None:
            raise DashboardError(f"There is no widget {widget_id}; it may have been deleted.")
        return _widget(row)

    def add_widget(self, widget: Widget) -> Widget:
        with self._engine.begin() as conn:
            last = conn.execute(select(func.max(_widgets.c.position)).where(
                _widgets.c.dashboard_id == widget.dashboard_id)).scalar()
            saved = replace(widget, position=(last or 0) + 1, updated_at=now_text())
            new_id = conn.execute(insert(_widgets).values(**_row(saved))).inserted_primary_key[0]
        return replace(saved, id=new_id)

    def update_widget(self, widget: Widget) -> Widget:
        saved = replace(widget, updated_at=now_text())
        with self._engine.begin() as conn:
            conn.execute(update(_widgets).where(_widgets.c.id == widget.id).values(**_row(saved)))
        return saved

    def delete_widget(self, widget_id: int) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(_widgets).where(_widgets.c.id == widget_id))
            conn.execute(delete(_values).where(_values.c.widget_id == widget_id))

    def move_widget(self, widget_id: int, step: int) -> None:
        """Move a widget `step` places (-1 up, +1 down) among its dashboard's widgets."""
        widget = self.widget(widget_id)
        order = [w.id for w in self.widgets(widget.dashboard_id)]
        index = order.index(widget_id)
        target = min(max(index + step, 0), len(order) - 1)
        order.insert(target, order.pop(index))
        with self._engine.begin() as conn:
            for position, wid in enumerate(order, start=1):
                conn.execute(update(_widgets).where(_widgets.c.id == wid)
                             .values(position=position))

    # ---- number widgets' history -------------------------------------------------------

    def record_value(self, widget_id: int, value: float, at: str) -> float | None:
        """Store a refresh's value; return the one before it (None the first time)."""
        with self._engine.begin() as conn:
            previous = conn.execute(select(_values.c.value).where(_values.c.widget_id == widget_id)
                                    .order_by(_values.c.id.desc()).limit(1)).scalar()
            conn.execute(insert(_values).values(widget_id=widget_id, refreshed_at=at,
                                                value=value))
        return previous


def _row(widget: Widget) -> dict[str, object]:
    return {
        "dashboard_id": widget.dashboard_id, "position": widget.position,
        "title": widget.title.strip(), "question": widget.question, "sql": widget.sql,
        "relative": widget.relative, "chart": json.dumps({"kind": widget.chart}),
        "refresh": json.dumps(widget.refresh.as_dict()),
        "profile_version": widget.profile_version, "updated_at": widget.updated_at,
    }


def _widget(row: Any) -> Widget:
    refresh = json.loads(row.refresh)
    return Widget(
        dashboard_id=row.dashboard_id, title=row.title, question=row.question, sql=row.sql,
        relative=bool(row.relative), chart=json.loads(row.chart)["kind"],
        refresh=Refresh(refresh["kind"], int(refresh["minutes"]), refresh["at"]),
        profile_version=row.profile_version, position=row.position, id=row.id,
        updated_at=row.updated_at,
    )

"""What the pages do with dashboards: save an answer as a widget, edit, reorder, delete,
export and import, refresh; every change audited on the dashboard channel."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import partial

from copilot.services import Services
from copilot.values import Answer, ChartKind
from dashboards.model import Dashboard, DashboardError, Refresh, Widget
from dashboards.refresh import WidgetResult, WidgetRunner
from dashboards.seed import MORNING_CHECK, MORNING_CHECK_WIDGETS
from dashboards.store import DashboardStore
from dashboards.transfer import dashboard_json, read_dashboard_json

__all__ = ["DashboardService"]


class DashboardService:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._audit = partial(services.record, "dashboard")
        self.store = DashboardStore(services.settings.state.url)
        self.runner = WidgetRunner(services, self.store)

    def dashboard(self, name: str, *, by: str) -> Dashboard:
        """The dashboard named `name`, created when there is none."""
        return self.store.dashboard(" ".join(name.split())) or self._created(name, by)

    def _created(self, name: str, by: str) -> Dashboard:
        dashboard = self.store.create_dashboard(name, by=by)
        self._audit(by, f"dashboard {dashboard.name!r} created")
        return dashboard

    def save_answer(self, answer: Answer, *, dashboard: str, title: str, chart: ChartKind,
                    refresh: Refresh, by: str) -> Widget:
        """A widget from an answered question. Engine answers stay relative (the question is
        re-asked at each refresh); pair, LLM and hand-written SQL is kept as it ran."""
        if answer.status != "answered" or not answer.sql:
            raise DashboardError("Only an answered question can become a widget.")
        version = self.services.trainer.active()
        widget = Widget(dashboard_id=self.dashboard(dashboard, by=by).id, title=title,
                        question=answer.question, sql=answer.sql,
                        relative=answer.source == "engine", chart=chart, refresh=refresh,
                        profile_version=version.key if version else "")
        saved = self.store.add_widget(widget)
        self._audit(by, f"widget {saved.title!r} saved to {dashboard!r}", saved.sql)
        return saved

    def edit_widget(self, widget: Widget, *, title: str, chart: ChartKind, refresh: Refresh,
                    sql: str, by: str) -> Widget:
        """Change a widget; changed SQL passes the guard and is then kept as written (the
        widget stops re-asking its question)."""
        changed_sql = " ".join(sql.split()) != " ".join(widget.sql.split())
        if changed_sql:
            verdict = self.services.check(sql)
            if not verdict.allowed:
                self._audit(by, f"widget {widget.title!r} edit refused", sql, "blocked",
                            verdict.reason)
                raise DashboardError(f"The SQL guard refused the new SQL: {verdict.reason}")
        edited = replace(widget, title=title, chart=chart, refresh=refresh, sql=sql,
                         relative=widget.relative and not changed_sql)
        saved = self.store.update_widget(edited)
        self._audit(by, f"widget {saved.title!r} edited", saved.sql if changed_sql else "")
        return saved

    def delete_widget(self, widget: Widget, *, by: str) -> None:
        assert widget.id is not None
        self.store.delete_widget(widget.id)
        self.runner.cache.forget(widget.id)
        self._audit(by, f"widget {widget.title!r} deleted")

    def refresh(self, widget: Widget, *, as_of: date, by: str,
                force: bool = False) -> tuple[WidgetResult, bool]:
        return self.runner.result(widget, as_of=as_of, user=by, force=force)

    def export(self, dashboard: Dashboard) -> str:
        """The dashboard as JSON: its widgets' questions and SQL, never data."""
        return dashboard_json(dashboard, self.store.widgets(dashboard.id))

    def delete_dashboard(self, dashboard: Dashboard, *, by: str) -> None:
        for widget in self.store.widgets(dashboard.id):
            self.runner.cache.forget(widget.id)
        self.store.delete_dashboard(dashboard.id)
        self._audit(by, f"dashboard {dashboard.name!r} deleted")

    def import_json(self, text: str | bytes, *, by: str, name: str = "") -> Dashboard:
        """A new dashboard from an export; nothing is created when any widget is refused."""
        try:
            exported, widgets = read_dashboard_json(text, self.services.check)
        except DashboardError as exc:
            self._audit(by, "dashboard import refused", outcome="blocked", reason=str(exc))
            raise
        wanted = " ".join((name or exported).split())
        if self.store.dashboard(wanted) is not None:
            raise DashboardError(f"A dashboard named {wanted!r} already exists; import it "
                                 "under another name.")
        dashboard = self.store.create_dashboard(wanted, by=by)
        for widget in widgets:
            self.store.add_widget(replace(widget, dashboard_id=dashboard.id))
        self._audit(by, f"dashboard {dashboard.name!r} imported with {len(widgets)} widgets")
        return dashboard

    def ensure_demo_dashboard(self, *, as_of: date) -> Dashboard | None:
        """Build the "Ops morning check" on first launch of the embedded demo."""
        settings = self.services.settings
        if not settings.uses_demo_warehouse or self.store.dashboards():
            return None
        dashboard = self._created(MORNING_CHECK, settings.app.user)
        for title, question, chart, refresh in MORNING_CHECK_WIDGETS:
            answer = self.services.ask(question, as_of=as_of, channel="dashboard",
                                       user=settings.app.user, use_llm=False)
            if answer.status == "answered":
                self.save_answer(answer, dashboard=MORNING_CHECK, title=title, chart=chart,
                                 refresh=refresh, by=settings.app.user)
        return dashboard

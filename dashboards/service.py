"""What the pages do with dashboards: save an answer as a widget, edit, reorder, delete,
export and import, refresh; every change audited on the dashboard channel."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from copilot.answering import Answering
from copilot.core.access import AccessDenied
from copilot.core.audit import Recorder
from copilot.core.audit.record import Outcome
from copilot.values import Answer, ChartKind
from dashboards.cache import Cache
from dashboards.model import Dashboard, DashboardError, Refresh, Widget
from dashboards.refresh import WidgetResult, WidgetRunner
from dashboards.seed import MORNING_CHECK, MORNING_CHECK_WIDGETS
from dashboards.store import DashboardStore
from dashboards.transfer import dashboard_json, read_dashboard_json

__all__ = ["DashboardService"]


class DashboardService:
    """Dashboards over `answering` (which asks, runs and checks), stored in the state
    database at `state_url`, every change recorded by `recorder`. `demo`: seed the demo's
    dashboard on first use (ensure_demo_dashboard). `cache`: where widget results are kept."""

    def __init__(self, answering: Answering, recorder: Recorder, *, state_url: str,
                 demo: bool = False, cache: Cache[WidgetResult] | None = None) -> None:
        self.answering = answering
        self.access = answering.access
        self.recorder = recorder
        self.demo = demo
        self.store = DashboardStore(state_url)
        # `cache`: shared by several processes (dashboards/shared_cache.py); else this
        # process's own.
        self.runner = WidgetRunner(answering, self.store, cache)

    def _audit(self, by: str, what: str, sql: str = "", outcome: Outcome = "recorded",
               reason: str = "") -> None:
        self.recorder.record("dashboard", what, by=by, sql=sql, outcome=outcome, reason=reason)

    def _allow(self, by: str, what: str, dashboard_id: int | None = None) -> None:
        """AccessDenied, recorded as blocked, unless `by` may save and change widgets and,
        for an existing dashboard, owns it."""
        self.access.check(by, "save widgets", what, recorder=self.recorder)
        owner = None if dashboard_id is None else self.store.owner(dashboard_id)
        if owner is not None and owner != by:
            # A widget reads its dashboard owner's rows (entitlements), so a widget added to,
            # or SQL changed in, someone else's dashboard would read rows its author may not.
            reason = (f"This dashboard is {owner}'s: its widgets read {owner}'s rows, so only "
                      f"{owner} may change it. Save to a dashboard of your own.")
            self._audit(by, what, outcome="blocked", reason=reason)
            raise AccessDenied(reason)

    def may_change(self, dashboard: Dashboard, by: str) -> bool:
        """True when `by` may add, edit, move and delete `dashboard`'s widgets (pages hide the
        controls otherwise; the methods refuse on their own)."""
        return dashboard.created_by == by and self.access.allows(by, "save widgets")

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
        existing = self.store.dashboard(" ".join(dashboard.split()))
        self._allow(by, f"widget {title!r} saved to {dashboard!r}",
                    existing.id if existing else None)
        return self._save(answer, dashboard, title, chart, refresh, by)

    def _save(self, answer: Answer, dashboard: str, title: str, chart: ChartKind,
              refresh: Refresh, by: str) -> Widget:
        if answer.status != "answered" or not answer.sql:
            raise DashboardError("Only an answered question can become a widget.")
        version = self.answering.trainer.active()
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
        self._allow(by, f"widget {widget.title!r} edited", widget.dashboard_id)
        changed_sql = " ".join(sql.split()) != " ".join(widget.sql.split())
        if changed_sql:
            verdict = self.answering.check(sql)
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
        self._allow(by, f"widget {widget.title!r} deleted", widget.dashboard_id)
        assert widget.id is not None
        self.store.delete_widget(widget.id)
        self.runner.cache.forget(widget.id)
        self._audit(by, f"widget {widget.title!r} deleted")

    def move_widget(self, widget: Widget, step: int, *, by: str) -> None:
        """Move a widget `step` places (-1 up, +1 down) on its dashboard."""
        self._allow(by, f"widget {widget.title!r} moved", widget.dashboard_id)
        self.store.move_widget(widget.id or 0, step)
        self._audit(by, f"widget {widget.title!r} moved {'up' if step < 0 else 'down'}")

    def refresh(self, widget: Widget, *, as_of: date, by: str,
                force: bool = False) -> tuple[WidgetResult, bool]:
        self.access.check(by, "view dashboards", f"widget {widget.title!r}",
                          recorder=self.recorder)
        return self.runner.result(widget, as_of=as_of, user=by, force=force)

    def export(self, dashboard: Dashboard) -> str:
        """The dashboard as JSON: its widgets' questions and SQL, never data."""
        return dashboard_json(dashboard, self.store.widgets(dashboard.id))

    def delete_dashboard(self, dashboard: Dashboard, *, by: str) -> None:
        self._allow(by, f"dashboard {dashboard.name!r} deleted", dashboard.id)
        for widget in self.store.widgets(dashboard.id):
            self.runner.cache.forget(widget.id)
        self.store.delete_dashboard(dashboard.id)
        self._audit(by, f"dashboard {dashboard.name!r} deleted")

    def import_json(self, text: str | bytes, *, by: str, name: str = "") -> Dashboard:
        """A new dashboard from an export; nothing is created when any widget is refused."""
        self._allow(by, "dashboard import")
        try:
            exported, widgets = read_dashboard_json(text, self.answering.check)
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
        if not self.demo or self.store.dashboards():
            return None
        user = self.recorder.user
        dashboard = self._created(MORNING_CHECK, user)
        for title, question, chart, refresh in MORNING_CHECK_WIDGETS:
            answer = self.answering.ask(question, as_of=as_of, channel="dashboard", user=user,
                                        use_llm=False)
            if answer.status == "answered":  # the app's own seed, not a person's change
                self._save(answer, MORNING_CHECK, title, chart, refresh, user)
        return dashboard

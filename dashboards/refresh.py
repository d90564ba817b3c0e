"""Refreshing a widget: re-ask its question (relative widgets) or run its saved SQL, through
the same answering as the Ask page, audited on the dashboard channel, cached per widget."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime

from copilot.answering import Answering
from copilot.core.periods import format_period
from copilot.engine.labels import column_labels
from copilot.values import Answer
from dashboards.cache import Cache, ResultCache
from dashboards.model import Widget
from dashboards.store import DashboardStore

__all__ = ["ERROR_TTL_S", "WidgetResult", "WidgetRunner"]

ERROR_TTL_S = 30.0  # a failing widget is retried soon, not at its next interval


@dataclass(frozen=True)
class WidgetResult:
    """One refresh of one widget, as the page shows it."""

    widget_id: int
    refreshed_at: datetime
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[object, ...], ...] = ()
    truncated: bool = False
    labels: tuple[str, ...] = ()  # what the page calls each column ("Amount (USD)")
    covers: str = ""  # the dates the widget's numbers are about
    sql: str = ""
    error: str = ""
    note: str = ""
    value: float | None = None  # number widgets: this refresh's value and the one before
    previous: float | None = None
    ms: float = 0.0


class WidgetRunner:
    def __init__(self, answering: Answering, store: DashboardStore,
                 cache: Cache[WidgetResult] | None = None) -> None:
        self.answering = answering
        self.store = store
        self.cache: Cache[WidgetResult] = cache or ResultCache()

    def result(self, widget: Widget, *, as_of: date, user: str,
               force: bool = False) -> tuple[WidgetResult, bool]:
        """The widget's result (from the cache while fresh) and whether it was cached."""
        def ttl(result: WidgetResult) -> float | None:
            fresh = widget.refresh.ttl_seconds(datetime.now())
            return min(fresh or ERROR_TTL_S, ERROR_TTL_S) if result.error else fresh

        return self.cache.get(widget.id, self._depends_on(widget, as_of), ttl,
                              lambda: self._run(widget, as_of, user), force=force)

    def _depends_on(self, widget: Widget, as_of: date) -> tuple[object, ...]:
        """What a result is valid for: the widget as edited, the as-of day, the profile
        version it was answered from, and whose rows it shows (the dashboard's owner, in
        the groups that decide the owner's entitlements). A result cached for another
        owner, groups or profile is never served."""
        owner = self.store.owner(widget.dashboard_id) or ""
        version = self.answering.trainer.active()
        groups = sorted(self.answering.access.membership(owner).groups) if owner else []
        return (widget.updated_at, as_of.isoformat(), version.key if version else "", owner,
                tuple(groups))

    def _run(self, widget: Widget, as_of: date, user: str) -> WidgetResult:
        started = time.perf_counter()
        # A widget shows the rows its dashboard's owner may read, to every viewer: its
        # result is cached for all of them (dashboards/cache.py).
        owner = self.store.owner(widget.dashboard_id)
        note = ""
        answer: Answer | None = None
        if widget.relative:
            answer = self.answering.ask(widget.question, as_of=as_of, channel="dashboard",
                                        user=user, use_llm=False, rows_of=owner)
            if answer.status != "answered":
                note = (f"The question is no longer understood ({answer.interpretation}); "
                        "this is its saved SQL, with the dates it was saved with.")
                answer = None
        if answer is None:
            answer = self.answering.run_sql(widget.sql, user=user, channel="dashboard",
                                            question=f"widget: {widget.title}", rows_of=owner)
        now = datetime.now()
        ms = (time.perf_counter() - started) * 1000
        assert widget.id is not None
        if answer.status != "answered":
            return WidgetResult(widget.id, now, error=answer.interpretation, note=note, ms=ms,
                                sql=answer.sql or widget.sql)
        value = previous = None
        if widget.chart == "number":
            value = _number(answer)
            if value is not None:
                previous = self.store.record_value(widget.id, value, now.isoformat())
        version = self.answering.trainer.active()
        labels = answer.labels or column_labels(
            answer.columns, None, version.content if version is not None else None)
        return WidgetResult(
            widget.id, now, columns=answer.columns, rows=answer.rows, labels=labels,
            truncated=answer.truncated, covers=_covers(answer, widget, as_of),
            sql=answer.sql or "", note=note, value=value, previous=previous, ms=ms)


def _covers(answer: Answer, widget: Widget, as_of: date) -> str:
    plan = answer.plan
    if plan is not None and plan.period is not None and plan.period_column:
        column = plan.period_column.split(".")[1].replace("_", " ")
        return f"{column} {format_period(plan.period)}"
    if widget.relative and answer.source == "engine":
        return f"as of {as_of.day} {as_of:%b %Y}"
    return "the dates written in its SQL"


def _number(answer: Answer) -> float | None:
    """A number widget's value: the last column of the first row, when it is a number."""
    if not answer.rows:
        return 0.0 if answer.columns else None
    value = answer.rows[0][-1]
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None

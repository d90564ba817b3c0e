"""The one way SQL reaches the warehouse: the guard's verdict first, then the read-only
warehouse, or a refusal. Every path runs through it (answers, edited SQL, downloads,
dashboards, reports, samples, training, eval)."""

from __future__ import annotations

from sqlglot import exp

from copilot.core.errors import GuardRefusal
from copilot.core.guard import Guard
from copilot.core.warehouse import QueryResult, Warehouse

__all__ = ["run_guarded"]


def run_guarded(
    guard: Guard, warehouse: Warehouse, sql: str | exp.Expression, *, read: str | None = None
) -> QueryResult:
    """The guard's verdict on `sql`, then the warehouse's rows, or GuardRefusal."""
    verdict = guard.check(sql, read=read)
    if verdict.statement is None:
        raise GuardRefusal(verdict.rule or "input", verdict.reason)
    return warehouse.execute(verdict.statement)

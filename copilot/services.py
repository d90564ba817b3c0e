"""Build the copilot's long-lived services once per process from Settings.

The Streamlit app caches the result with st.cache_resource and the CLI calls it directly, so
both run on exactly the same objects.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from copilot.config import Settings
from copilot.demo import DemoSummary, build_demo_warehouse
from copilot.errors import GuardRefusal
from copilot.guard import Guard, GuardSchema, Policy, Verdict, default_policy, load_policy
from copilot.warehouse import QueryResult, Warehouse

__all__ = ["Services", "build_services", "ensure_demo_warehouse", "guard_policy"]


@dataclass(frozen=True)
class Services:
    """What pages and commands work with."""

    settings: Settings
    warehouse: Warehouse
    guard: Guard

    def query(self, sql: str | exp.Expression, *, read: str | None = None) -> QueryResult:
        """Check `sql` with the guard and run it; GuardRefusal when the guard says no."""
        verdict = self.check(sql, read=read)
        if verdict.statement is None:
            raise GuardRefusal(verdict.rule or "input", verdict.reason)
        return self.warehouse.execute(verdict.statement)

    def check(self, sql: str | exp.Expression, *, read: str | None = None) -> Verdict:
        """The guard's verdict on `sql` for this warehouse."""
        return self.guard.check(sql, read=read)

    def sample(self, table: str, limit: int = 20) -> QueryResult:
        """The first `limit` rows of a warehouse table, as the Data page shows them."""
        source = exp.table_(table, db=self.warehouse.db_schema, quoted=True)
        return self.query(sqlglot.select("*").from_(source).limit(limit))


def ensure_demo_warehouse(settings: Settings) -> DemoSummary | None:
    """Build the embedded demo warehouse when it is the configured one and is absent."""
    path = settings.demo_warehouse_path
    if not settings.uses_demo_warehouse or path.exists():
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    return build_demo_warehouse(
        path,
        as_of=settings.effective_as_of(),
        seed=settings.demo_seed,
        trades=settings.demo_trades,
    )


def guard_policy(settings: Settings) -> Policy:
    """The guard policy in force: the configured file, else the one shipped."""
    return load_policy(settings.guard_policy) if settings.guard_policy else default_policy()


def build_services(settings: Settings) -> Services:
    """Open the warehouse read-only (building the demo first when needed) and its guard."""
    ensure_demo_warehouse(settings)
    warehouse = Warehouse(
        settings.warehouse_url,
        timeout_s=settings.query_timeout_s,
        db_schema=settings.warehouse_schema or None,
    )
    guard = Guard(
        GuardSchema.from_warehouse(warehouse.schema()),
        dialect=warehouse.dialect,
        row_cap=settings.row_cap,
        policy=guard_policy(settings),
    )
    return Services(settings=settings, warehouse=warehouse, guard=guard)

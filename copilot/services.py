"""Build the copilot's long-lived services once per process from Settings.

The Streamlit app caches the result with st.cache_resource and the CLI calls it directly, so
both run on exactly the same objects.
"""

from __future__ import annotations

from dataclasses import dataclass

from copilot.config import Settings
from copilot.demo import DemoSummary, build_demo_warehouse
from copilot.warehouse import Warehouse

__all__ = ["Services", "build_services", "ensure_demo_warehouse"]


@dataclass(frozen=True)
class Services:
    """What pages and commands work with."""

    settings: Settings
    warehouse: Warehouse


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


def build_services(settings: Settings) -> Services:
    """Open the warehouse read-only (building the demo first when needed)."""
    ensure_demo_warehouse(settings)
    warehouse = Warehouse(
        settings.warehouse_url,
        row_cap=settings.row_cap,
        timeout_s=settings.query_timeout_s,
        db_schema=settings.warehouse_schema or None,
    )
    return Services(settings=settings, warehouse=warehouse)

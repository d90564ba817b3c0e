"""Dashboards: saved answers as widgets, their storage and their refresh, over the
answering service they are handed."""

from copilot.core.lazy import lazy_exports

_EXPORTS = {
    "Dashboard": ".model",
    "DashboardError": ".model",
    "Refresh": ".model",
    "Widget": ".model",
    "WidgetResult": ".refresh",
    "DashboardService": ".service",
    "DashboardStore": ".store",
}
__all__ = ["Dashboard", "DashboardError", "DashboardService", "DashboardStore", "Refresh",
           "Widget", "WidgetResult"]
__getattr__ = lazy_exports(__name__, _EXPORTS)

"""Reports: templates, the in-process scheduler, renderers and delivery channels (each a
registry), the run log and the delivery ledger."""

from copilot.core.lazy import lazy_exports

_EXPORTS = {
    "Alert": ".model",
    "Recipients": ".model",
    "ReportError": ".model",
    "ReportRun": ".model",
    "ReportTemplate": ".model",
    "Schedule": ".model",
    "ReportRunner": ".runner",
    "ReportScheduler": ".scheduler",
    "ReportService": ".service",
    "ReportStore": ".store",
}
__all__ = ["Alert", "Recipients", "ReportError", "ReportRun", "ReportRunner", "ReportScheduler",
           "ReportService", "ReportStore", "ReportTemplate", "Schedule"]
__getattr__ = lazy_exports(__name__, _EXPORTS)

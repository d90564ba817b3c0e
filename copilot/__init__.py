"""OTC Ops Copilot: the floors below the pages (docs/architecture.md). Nothing in this
package imports Streamlit; the pages in `app_pages/` render what it returns.

Its public names load on first use, so that importing one module of the ground floor
(`copilot.core.errors`, say) never opens the others, nor the floors above it.
"""

from copilot.core import __version__
from copilot.core.lazy import lazy_exports

_EXPORTS = {
    "CopilotError": "copilot.core.errors",
    "WarehouseSchema": "copilot.core.schema",
    "Settings": "copilot.core.settings",
    "QueryResult": "copilot.core.warehouse",
    "Warehouse": "copilot.core.warehouse",
    "load_settings": "copilot.settings",  # reads the sections owned above the core
}
__all__ = ["CopilotError", "QueryResult", "Settings", "Warehouse", "WarehouseSchema",
           "__version__", "load_settings"]
__getattr__ = lazy_exports(__name__, _EXPORTS)

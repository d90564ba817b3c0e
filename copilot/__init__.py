"""OTC Ops Copilot's engine: settings, the read-only warehouse, the demo generator, the CLI.

Nothing in this package imports Streamlit; the pages in `app_pages/` render what it returns.
"""

from copilot.core import __version__
from copilot.core.errors import CopilotError
from copilot.core.schema import WarehouseSchema
from copilot.core.settings import Settings, load_settings
from copilot.core.warehouse import QueryResult, Warehouse

__all__ = [
    "CopilotError",
    "QueryResult",
    "Settings",
    "Warehouse",
    "WarehouseSchema",
    "__version__",
    "load_settings",
]

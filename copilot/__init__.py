"""OTC Ops Copilot's engine: settings, the read-only warehouse, the demo generator, the CLI.

Nothing in this package imports Streamlit; the pages in `app_pages/` render what it returns.
"""

from copilot.config import Settings, load_settings
from copilot.errors import CopilotError
from copilot.schema import WarehouseSchema
from copilot.warehouse import QueryResult, Warehouse

__all__ = [
    "CopilotError",
    "QueryResult",
    "Settings",
    "Warehouse",
    "WarehouseSchema",
    "load_settings",
]
__version__ = "0.1.0"

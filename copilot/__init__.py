"""OTC Ops Copilot's engine: settings, the read-only warehouse, the demo generator, the CLI.

Nothing in this package imports Streamlit; the pages in `app_pages/` render what it returns.
"""

from copilot.core import __version__
from copilot.core.errors import CopilotError
from copilot.core.schema import WarehouseSchema
from copilot.core.settings import Settings
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


def __getattr__(name: str) -> object:
    # load_settings reads the sections owned above the core (LLM, reports); imported on first
    # use so that importing the core never imports those floors.
    if name == "load_settings":
        from copilot.settings import load_settings

        return load_settings
    raise AttributeError(f"module 'copilot' has no attribute {name!r}")

"""Read-only SQLAlchemy engines for a warehouse URL, whichever registered dialect it speaks.

The guard (an AST check) is the first wall against writes; the connection is the second, so
that even a statement the guard wrongly allowed cannot change anything. How each warehouse
makes its connections read-only and bounds a statement's time is its dialect's business
(copilot/core/dialects/: SQLite read-only three times over, PostgreSQL read-only transactions
with server and client time limits, SQL Server read-only intent and pyodbc's timeout); this
module picks the dialect from the URL, opens the engine, and redacts URLs for display.
"""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from copilot.core.dialects import (
    CLIENT_GRACE_S,
    ReadOnlyEngine,
    dialect_for_url,
)
from copilot.core.dialects import (
    driver_missing as _driver_missing,
)
from copilot.core.dialects.sqlite import SQLITE_MAX_VALUE_BYTES, introspection
from copilot.core.errors import DriverMissing

__all__ = [
    "CLIENT_GRACE_S",
    "SQLITE_MAX_VALUE_BYTES",
    "ReadOnlyEngine",
    "driver_missing",
    "introspection",
    "open_readonly_engine",
    "redact_url",
]


def redact_url(url: str) -> str:
    """The URL with its password hidden, fit for a page or a log."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def open_readonly_engine(url: str, timeout_s: float) -> ReadOnlyEngine:
    """Create a read-only engine for `url` with a `timeout_s` limit on every statement.

    ConfigError (UnsupportedDialect) for a URL no registered dialect takes; DriverMissing,
    saying what to install, when the dialect's driver or a system library will not load."""
    dialect = dialect_for_url(url)
    try:
        return dialect.open_engine(make_url(url), timeout_s)
    except (ImportError, NoSuchModuleError) as exc:
        raise _driver_missing(dialect, exc) from None


def driver_missing(backend: str, exc: BaseException) -> DriverMissing:
    """The user-facing error for the driver of URL scheme `backend` that failed to import."""
    return _driver_missing(dialect_for_url(f"{backend}://"), exc)

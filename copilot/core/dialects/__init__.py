"""Warehouse dialects as a registry: one frozen `Dialect` a module, one map.

Everything that differs between SQLite, PostgreSQL and SQL Server (URL schemes, the
read-only engine and its time limit, sqlglot's dialect, default and system schemas, what the
driver's errors mean, what the LLM is told) is a field of a `Dialect`; the connections, the
warehouse, the guard, the settings and the LLM prompt ask the registry instead of keeping
their own lists.
"""

from copilot.core.dialects.base import (
    CLIENT_GRACE_S,
    Dialect,
    DriverFault,
    ErrorKind,
    ErrorSigns,
    ReadOnlyEngine,
    Signs,
    UnsupportedDialect,
    driver_missing,
)
from copilot.core.dialects.registry import (
    dialect_for_url,
    dialect_named,
    dialects,
    names,
    register,
    schemes,
    unregister,
    url_examples,
)

__all__ = [
    "CLIENT_GRACE_S",
    "Dialect",
    "DriverFault",
    "ErrorKind",
    "ErrorSigns",
    "ReadOnlyEngine",
    "Signs",
    "UnsupportedDialect",
    "dialect_for_url",
    "dialect_named",
    "dialects",
    "driver_missing",
    "names",
    "register",
    "schemes",
    "unregister",
    "url_examples",
]

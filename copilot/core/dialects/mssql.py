"""SQL Server through pyodbc: read-only intent and the driver's own query timeout.

`ApplicationIntent=ReadOnly` routes the session to a readable secondary where there is one.
The login should also hold only `db_datareader`; the README says so, because SQL Server has
no session switch that forbids writes for a read-write login. No SQL Server runs in the
tests: this module is checked offline (URL handling, sqlglot's T-SQL).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL

from copilot.core.dialects.base import Dialect, ErrorSigns, ReadOnlyEngine, Signs

__all__ = ["DIALECT", "UNIXODBC_HINT", "open_mssql"]

UNIXODBC_HINT = (
    "SQL Server needs unixODBC and an ODBC driver: on Debian run "
    "`apt-get install unixodbc` and then install either Microsoft's ODBC Driver 18 "
    "(package msodbcsql18) or FreeTDS (`apt-get install tdsodbc`)."
)


def open_mssql(url: URL, timeout_s: float) -> ReadOnlyEngine:
    """A pool of read-intent pyodbc connections whose statements pyodbc cancels in time."""
    query = dict(url.query)
    query.setdefault("ApplicationIntent", "ReadOnly")
    engine = create_engine(url.set(query=query), pool_pre_ping=True)
    seconds = max(1, round(timeout_s))

    @event.listens_for(engine, "connect")
    def _set_timeout(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.timeout = seconds  # pyodbc cancels statements past this

    return ReadOnlyEngine(engine, _no_deadline)


def _no_deadline(dbapi_connection: Any, seconds: float) -> Callable[[], bool]:
    # SQL Server's driver enforces the limit itself (pyodbc's timeout, set per connection).
    return lambda: False


DIALECT = Dialect(
    name="tsql",
    sqlglot="tsql",
    schemes=("mssql",),
    url_example="mssql+pyodbc://",
    label="SQL Server",
    open_engine=open_mssql,
    default_schemas=("dbo",),
    system_schemas=("sys", "information_schema", "master", "msdb", "tempdb", "model"),
    errors=ErrorSigns(
        # ODBC words a connect that timed out "login timeout expired".
        unreachable=Signs(phrases=("login timeout", "connection timeout", "could not connect")),
        # pyodbc's query timeout: SQLSTATE HYT00/HYT01, "Query timeout expired".
        timeout=Signs(codes=("HYT",), phrases=("timeout expired",)),
        read_only=Signs(phrases=("read-only",)),  # a read-intent session on a secondary
        too_big=Signs(phrases=("out of memory",)),
        connection_lost=Signs(phrases=("connection", "could not connect")),
    ),
    prompt_name="SQL Server (T-SQL)",
    prompt_hint=" Use TOP n, not LIMIT.",
    driver_hint=UNIXODBC_HINT,
)

"""The one path to the warehouse: read-only execution with a row cap and a time limit.

`Warehouse.execute` takes only a `GuardedSQL`, which only the SQL guard makes: no code path
can run a statement that did not pass the guard. The read-only connection underneath is
the second wall. Results come back as a frozen `QueryResult`; the row cap fetches `cap + 1`
rows so the answer can say "truncated" without counting the whole result.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import CursorResult, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from copilot.core.connections import (
    CLIENT_GRACE_S,
    introspection,
    open_readonly_engine,
    redact_url,
)
from copilot.core.dialects import Dialect, DriverFault, ErrorKind, dialect_for_url
from copilot.core.errors import (
    QueryFailed,
    QueryTimeout,
    ReadOnlyViolation,
    WarehouseError,
    WarehouseUnavailable,
)
from copilot.core.guard.verdict import GuardedSQL
from copilot.core.schema import WarehouseSchema, introspect
from copilot.core.sqlite_file import damaged

__all__ = ["QueryResult", "Warehouse"]


@dataclass(frozen=True)
class QueryResult:
    """Rows of one query: at most the row cap, with `truncated` set when more existed."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    truncated: bool
    elapsed_ms: float

    @property
    def row_count(self) -> int:
        return len(self.rows)


class Warehouse:
    """A read-only warehouse connection, in any registered dialect (SQLite, PostgreSQL and
    SQL Server ship)."""

    def __init__(self, url: str, *, timeout_s: float, db_schema: str | None = None) -> None:
        self.dialect_spec: Dialect = dialect_for_url(url)  # all the copilot knows of it
        self._ro = open_readonly_engine(url, timeout_s)
        self.url = url
        self.timeout_s = timeout_s
        self.db_schema = db_schema or None
        self._schema: WarehouseSchema | None = None

    @property
    def dialect(self) -> str:
        """The name of the warehouse's dialect (for the shipped ones, sqlglot's name too)."""
        return self.dialect_spec.name

    @property
    def sqlglot_dialect(self) -> str:
        """sqlglot's name for the warehouse's SQL dialect."""
        return self.dialect_spec.sqlglot

    @property
    def display_url(self) -> str:
        """The URL with any password hidden."""
        return redact_url(self.url)

    def execute(self, statement: GuardedSQL) -> QueryResult:
        """Run a statement the guard allowed; at most its row cap of rows come back."""
        self._check(statement)
        return self._run(statement.sql, statement.row_cap)

    def stream(self, statement: GuardedSQL, chunk_rows: int = 10_000
               ) -> Iterator[tuple[tuple[str, ...], tuple[tuple[Any, ...], ...]]]:
        """Run a statement the guard allowed and yield (columns, rows) a chunk at a time, so
        a report of a million rows is written without holding them all (PostgreSQL sends
        them through a server-side cursor). Yields at least once, with the columns."""
        self._check(statement)
        with self._statement(statement.sql, stream=True) as result:
            columns = tuple(result.keys()) if result.returns_rows else ()
            sent = False
            while chunk := (result.fetchmany(chunk_rows) if columns else []):
                sent = True
                yield columns, tuple(tuple(_plain(v) for v in row) for row in chunk)
            if not sent:
                yield columns, ()

    def _check(self, statement: GuardedSQL) -> None:
        if not isinstance(statement, GuardedSQL):
            raise TypeError("The warehouse runs only GuardedSQL made by copilot.core.guard")
        if statement.dialect != self.dialect:
            raise QueryFailed(
                f"The statement was checked for {statement.dialect}, "
                f"but the warehouse speaks {self.dialect}."
            )

    def _run(self, sql: str, cap: int) -> QueryResult:
        # Private on purpose: the only callers are execute() (guarded SQL), ping() (a
        # constant) and the tests that prove the second wall holds without the guard.
        started = time.perf_counter()
        with self._statement(sql) as result:
            # Only cap + 1 rows leave the cursor; the guard also puts a LIMIT on every
            # statement, so the server never sends a large result here.
            columns = tuple(result.keys()) if result.returns_rows else ()
            fetched = result.fetchmany(cap + 1) if result.returns_rows else []
        rows = tuple(tuple(_plain(v) for v in row) for row in fetched[:cap])
        return QueryResult(
            columns=columns,
            rows=rows,
            truncated=len(fetched) > cap,
            elapsed_ms=(time.perf_counter() - started) * 1000,
        )

    @contextmanager
    def _statement(self, sql: str, *, stream: bool = False) -> Iterator[CursorResult[Any]]:
        """One read-only statement under the deadline, its errors typed.

        A pooled connection the server dropped (a restart) fails on first use; the statement
        only reads, so it runs once more on a fresh connection, unless a row was already
        handed out. A MemoryError is the statement's, not the process's: typed, so it is
        audited and answered like any other failure.
        """
        for attempt in (1, 2):
            fired = False
            started_rows = False
            try:
                with self._ro.engine.connect() as conn:
                    dbapi = conn.connection.dbapi_connection
                    disarm = self._ro.arm_deadline(dbapi, self.timeout_s)
                    try:
                        # On the statement, not the connection: a connection-wide option would
                        # also make the read-only pins of the begin hook a server-side cursor.
                        options = {"stream_results": True} if stream else {}
                        result = conn.execute(text(sql), execution_options=options)
                        started_rows = True
                        yield result
                        result.close()
                    finally:
                        fired = disarm()
                    conn.rollback()  # nothing to keep; ends the read-only transaction at once
                return
            except DBAPIError as exc:
                if fired:
                    raise self._abandoned() from None
                if attempt == 1 and exc.connection_invalidated and not started_rows:
                    continue
                raise self._translate(exc) from None
            except SQLAlchemyError as exc:
                raise self._translate(exc) from None
            except MemoryError:
                raise QueryFailed(
                    "The query needed more memory than the copilot has; narrow it (a filter, "
                    "fewer columns or a smaller period) and ask again."
                ) from None

    def _abandoned(self) -> QueryTimeout:
        return QueryTimeout(
            f"The warehouse at {self.display_url} did not answer within "
            f"{self.timeout_s + CLIENT_GRACE_S:g} s (its {self.timeout_s:g} s limit and "
            f"{CLIENT_GRACE_S:g} s of grace): the server may be frozen or the network down. "
            "The question was abandoned."
        )

    def schema(self, refresh: bool = False) -> WarehouseSchema:
        """The warehouse's tables, columns and keys (read once, then kept)."""
        if self._schema is None or refresh:
            try:
                with introspection():
                    self._schema = introspect(self._ro.engine, self.db_schema)
            except SQLAlchemyError as exc:
                raise self._translate(exc) from None
        return self._schema

    def ping(self) -> None:
        """Raise WarehouseUnavailable unless the warehouse answers a trivial query."""
        self._run("SELECT 1", 1)

    def dispose(self) -> None:
        """Close pooled connections."""
        self._ro.engine.dispose()

    def _translate(self, exc: SQLAlchemyError) -> WarehouseError:
        """Map a driver error to the copilot's typed errors with a readable message; what
        the error means is the dialect's to say (copilot/core/dialects/)."""
        orig = getattr(exc, "orig", None)
        message = str(orig or exc).strip().splitlines()[0] if str(orig or exc).strip() else ""
        fault = DriverFault(
            message=message,
            code=str(getattr(orig, "sqlstate", "") or ""),
            operational=isinstance(exc, OperationalError),
            invalidated=bool(getattr(exc, "connection_invalidated", False)),
        )
        return self._typed(self.dialect_spec.classify(fault), message)

    def _typed(self, kind: ErrorKind, message: str) -> WarehouseError:
        if kind in ("unreachable", "connection_lost"):
            return WarehouseUnavailable(
                f"The warehouse at {self.display_url} cannot be reached: {message}"
            )
        if kind == "timeout":
            return QueryTimeout(
                f"The query ran longer than the {self.timeout_s:g} s limit and was cancelled."
            )
        if kind == "read_only":
            return ReadOnlyViolation(
                f"The warehouse connection is read-only; the statement was refused ({message})."
            )
        if kind == "too_big":
            return QueryFailed(
                "The query builds a value larger than the copilot reads (16 MB) or needs more "
                "memory than it has; narrow it and ask again."
            )
        if kind == "damaged":  # only a file-backed warehouse says so
            return damaged(Path(make_url(self.url).database or ""), message)
        return QueryFailed(f"The warehouse rejected the query: {message}")


def _plain(value: Any) -> Any:
    """Drivers return Decimal, datetime and friends; keep one plain shape for every backend."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value

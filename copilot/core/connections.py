"""Read-only SQLAlchemy engines for the three warehouses we speak: SQLite, PostgreSQL, SQL Server.

The guard (an AST check) is the first wall against writes; the connection is the second, so
that even a statement the guard wrongly allowed cannot change anything:
- SQLite: the file is opened with `mode=ro` and `PRAGMA query_only`; the time limit is a
  progress handler that aborts the statement past its deadline; strings are capped at 16 MB.
  A file replaced (atomic rename), deleted, truncated or damaged is noticed before a query
  runs (sqlite_file.py).
- PostgreSQL: every transaction is read-only (`default_transaction_read_only`); the server
  cancels statements past `statement_timeout` and bounds sorts and temporary files
  (`work_mem`, `temp_file_limit`); the client closes the socket of a statement still running
  `CLIENT_GRACE_S` after that, so a frozen server or a dead network cannot hang a question.
- SQL Server: `ApplicationIntent=ReadOnly` and pyodbc's query timeout. The login should also
  hold only `db_datareader`; the README says so, because SQL Server has no session switch
  that forbids writes for a read-write login.
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import QueuePool

from copilot.core.errors import ConfigError, DriverMissing, WarehouseUnavailable
from copilot.core.guard.policy import default_policy
from copilot.core.sqlite_file import SQLiteFileWatch, WatchedConnection

__all__ = ["Dialect", "ReadOnlyEngine", "introspection", "open_readonly_engine", "redact_url"]

Dialect = Literal["sqlite", "postgres", "tsql"]

# The name sqlglot gives each dialect, so SQL can be transpiled for the warehouse in use.
_BACKENDS: dict[str, Dialect] = {"sqlite": "sqlite", "postgresql": "postgres", "mssql": "tsql"}

log = logging.getLogger(__name__)

# A PostgreSQL session's memory for one sort or hash, and its temporary files in all.
PG_WORK_MEM = "64MB"
PG_TEMP_FILE_LIMIT = "2GB"

UNIXODBC_HINT = (
    "SQL Server needs unixODBC and an ODBC driver: on Debian run "
    "`apt-get install unixodbc` and then install either Microsoft's ODBC Driver 18 "
    "(package msodbcsql18) or FreeTDS (`apt-get install tdsodbc`)."
)


# How long past the server's own limit the client waits before it gives a statement up.
CLIENT_GRACE_S = 5.0


@dataclass(frozen=True)
class ReadOnlyEngine:
    """An engine whose connections cannot write, and how to bound one statement's time.

    `arm_deadline(dbapi_connection, seconds)` is called before each statement; it returns a
    function that disarms it and says whether the deadline had fired.
    """

    engine: Engine
    dialect: Dialect
    arm_deadline: Callable[[Any, float], Callable[[], bool]]


def redact_url(url: str) -> str:
    """The URL with its password hidden, fit for a page or a log."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def open_readonly_engine(url: str, timeout_s: float) -> ReadOnlyEngine:
    """Create a read-only engine for `url` with a `timeout_s` limit on every statement."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"The warehouse URL {url!r} is not a database URL.") from None
    backend = parsed.get_backend_name()
    if backend not in _BACKENDS:
        raise ConfigError(
            f"The warehouse URL uses {backend!r}; supported are sqlite, postgresql and mssql."
        )
    builders = {"sqlite": _sqlite, "postgresql": _postgres, "mssql": _mssql}
    return builders[backend](parsed, timeout_s)


def _sqlite(url: URL, timeout_s: float) -> ReadOnlyEngine:
    if not url.database or url.database == ":memory:":
        raise ConfigError("An in-memory SQLite warehouse has no data; give a file path.")
    path = Path(url.database).expanduser().resolve()
    if not path.is_file():
        raise WarehouseUnavailable(f"The SQLite warehouse file {path} does not exist.")
    watch = SQLiteFileWatch(path)

    def connect() -> sqlite3.Connection:
        # mode=ro makes SQLite itself refuse writes to the file; query_only refuses them in
        # the engine; the authorizer refuses everything that is not a read (ATTACH would
        # create a file, VACUUM INTO would write one, PRAGMA would change settings).
        identity = watch.verified()  # the file as it is now, checked whole once
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, check_same_thread=False,
                               factory=WatchedConnection)
        conn.file_identity = identity
        # No string or blob beyond SQLITE_MAX_VALUE_BYTES and no statement beyond the guard's
        # own bound: a printf or replace that would build gigabytes fails at once with
        # "string or blob too big" instead of holding the process's memory for seconds.
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, SQLITE_MAX_VALUE_BYTES)
        conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, 1_000_000)
        conn.execute("PRAGMA query_only = ON")
        conn.set_authorizer(_sqlite_reads_only)
        return conn

    # A queue of connections, each used by one thread at a time. With "sqlite://" alone
    # SQLAlchemy would pick SingletonThreadPool (meant for :memory:), which closes other
    # threads' connections once more than five threads query: a crash under a scheduler.
    engine = create_engine("sqlite://", creator=connect, poolclass=QueuePool, pool_size=5,
                           max_overflow=20, pool_timeout=60)
    event.listen(engine, "checkout", watch.on_checkout)
    return ReadOnlyEngine(engine, "sqlite", _sqlite_deadline)


SQLITE_MAX_VALUE_BYTES = 16 * 1024 * 1024  # far above any cell an analyst reads

_SQLITE_READ_ACTIONS = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, 33}  # 33: RECURSIVE
)
# Pragmas SQLAlchemy's inspector reads the schema with; allowed only while it does.
_SQLITE_INTROSPECTION_PRAGMAS = frozenset(
    {"table_info", "table_xinfo", "foreign_key_list", "index_list", "index_info", "index_xinfo"}
)
_introspecting: ContextVar[bool] = ContextVar("introspecting", default=False)


@contextmanager
def introspection() -> Iterator[None]:
    """Within this block the SQLite catalog may be read: the schema is being introspected."""
    token = _introspecting.set(True)
    try:
        yield
    finally:
        _introspecting.reset(token)


def _sqlite_reads_only(action: int, arg1: str | None, arg2: str | None, *_: object) -> int:
    if action == sqlite3.SQLITE_FUNCTION and default_policy().is_dangerous_function(arg2 or ""):
        return sqlite3.SQLITE_DENY  # the guard's list, enforced again by SQLite itself
    if action == sqlite3.SQLITE_READ and (arg1 or "").lower().startswith("sqlite_"):
        # The catalog is read by introspection only, never by a query.
        return sqlite3.SQLITE_OK if _introspecting.get() else sqlite3.SQLITE_DENY
    if action in _SQLITE_READ_ACTIONS:
        return sqlite3.SQLITE_OK
    # read_uncommitted is read by SQLAlchemy on every first connect.
    if action == sqlite3.SQLITE_PRAGMA and (
        arg1 == "read_uncommitted"
        or (arg1 in _SQLITE_INTROSPECTION_PRAGMAS and _introspecting.get())
    ):
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _sqlite_deadline(dbapi_connection: Any, seconds: float) -> Callable[[], bool]:
    deadline = time.monotonic() + seconds

    def past_deadline() -> int:
        # A non-zero return makes SQLite abort the statement with "interrupted".
        return int(time.monotonic() > deadline)

    dbapi_connection.set_progress_handler(past_deadline, 10_000)

    def disarm() -> bool:
        dbapi_connection.set_progress_handler(None, 0)
        return time.monotonic() > deadline

    return disarm


def _no_deadline(dbapi_connection: Any, seconds: float) -> Callable[[], bool]:
    # SQL Server's driver enforces the limit itself (pyodbc's timeout, set per connection).
    return lambda: False


def _client_deadline(dbapi_connection: Any, seconds: float) -> Callable[[], bool]:
    """Close the connection's socket if the statement still runs `CLIENT_GRACE_S` after the
    server's own limit: a server that is frozen (SIGSTOP, a hung host) or unreachable never
    sends the cancellation, and the kernel keeps a stopped peer's TCP session alive, so
    neither statement_timeout nor keepalives end the wait. shutdown(2) wakes the driver's
    wait at once; the pool then discards the connection."""
    fired = threading.Event()

    def give_up() -> None:
        fired.set()
        try:
            fd = dbapi_connection.fileno()
            with socket.socket(fileno=os.dup(fd)) as sock:
                sock.shutdown(socket.SHUT_RDWR)
        except (OSError, ValueError, AttributeError) as exc:  # already closed: nothing waits
            log.debug("the client deadline found no socket to close: %s", exc)

    timer = threading.Timer(seconds + CLIENT_GRACE_S, give_up)
    timer.daemon = True
    timer.start()

    def disarm() -> bool:
        timer.cancel()
        return fired.is_set()

    return disarm


def _postgres(url: URL, timeout_s: float) -> ReadOnlyEngine:
    if url.drivername in {"postgresql", "postgresql+psycopg2"}:
        url = url.set(drivername="postgresql+psycopg")  # the driver we ship
    options = (
        "-c default_transaction_read_only=on "
        f"-c statement_timeout={max(1, int(timeout_s * 1000))} "
        "-c idle_in_transaction_session_timeout=60000 "
        f"-c work_mem={PG_WORK_MEM}"
    )
    # No pre-ping: a ping to a frozen server would wait forever before any deadline is armed.
    # A pooled connection the server dropped fails its statement instead, and the warehouse
    # layer runs a read-only statement once more on a fresh connection.
    engine = _create(
        url,
        connect_args={"options": options, "connect_timeout": 10, "keepalives": 1,
                      "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3},
    )
    timeout_ms = max(1, int(timeout_s * 1000))

    @event.listens_for(engine, "connect")
    def _limit_temp_files(dbapi_connection: Any, _record: Any) -> None:
        # temp_file_limit needs a privilege a bank's reader login may lack (PostgreSQL 15+
        # grants it with GRANT SET ON PARAMETER); without it the server's own setting holds.
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET temp_file_limit = '{PG_TEMP_FILE_LIMIT}'")
            dbapi_connection.commit()
        except Exception as exc:  # psycopg's InsufficientPrivilege, without importing it here
            dbapi_connection.rollback()
            log.info("temp_file_limit not set for the warehouse session: %s", exc)

    @event.listens_for(engine, "begin")
    def _pin_transaction(conn: Any) -> None:
        # Pinned per transaction as well: a session default changed by a statement (say
        # set_config) cannot carry a read-write or unlimited transaction to the next query.
        # Through the Connection, not a raw cursor: a server that restarted or froze fails
        # here first, and only then is the error wrapped, the connection invalidated and the
        # statement retried or abandoned like any other.
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {timeout_ms}")

    return ReadOnlyEngine(engine, "postgres", _client_deadline)


def _mssql(url: URL, timeout_s: float) -> ReadOnlyEngine:
    query = dict(url.query)
    query.setdefault("ApplicationIntent", "ReadOnly")
    engine = _create(url.set(query=query), pool_pre_ping=True)
    seconds = max(1, round(timeout_s))

    @event.listens_for(engine, "connect")
    def _set_timeout(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.timeout = seconds  # pyodbc cancels statements past this

    return ReadOnlyEngine(engine, "tsql", _no_deadline)


def _create(url: URL, **kwargs: Any) -> Engine:
    """create_engine, turning a missing driver or system library into a clear message."""
    try:
        return create_engine(url, **kwargs)
    except (ImportError, NoSuchModuleError) as exc:
        raise driver_missing(url.get_backend_name(), exc) from None


def driver_missing(backend: str, exc: BaseException) -> DriverMissing:
    """The user-facing error for a driver that failed to import."""
    if backend == "mssql":
        return DriverMissing(f"The SQL Server driver could not load ({exc}). {UNIXODBC_HINT}")
    return DriverMissing(
        f"The {backend} driver could not load ({exc}); run "
        "`pip install -r requirements.txt`."
    )

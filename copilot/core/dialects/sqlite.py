"""SQLite, the embedded demo's warehouse: a file opened read-only three times over.

The file is opened with `mode=ro`, `PRAGMA query_only` is on, and an authorizer refuses
everything that is not a read. The time limit is a progress handler that aborts the
statement past its deadline; strings are capped at 16 MB. A file replaced (atomic rename),
deleted, truncated or damaged is noticed before a query runs (copilot/core/sqlite_file.py).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.pool import QueuePool

from copilot.core.dialects.base import Dialect, ErrorSigns, ReadOnlyEngine, Signs
from copilot.core.errors import ConfigError, WarehouseUnavailable
from copilot.core.sqlite_file import SQLiteFileWatch, WatchedConnection

__all__ = ["DIALECT", "SQLITE_MAX_VALUE_BYTES", "introspection", "open_sqlite"]

SQLITE_MAX_VALUE_BYTES = 16 * 1024 * 1024  # far above any cell an analyst reads

_READ_ACTIONS = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, 33}  # 33: RECURSIVE
)
# Pragmas SQLAlchemy's inspector reads the schema with; allowed only while it does.
_INTROSPECTION_PRAGMAS = frozenset(
    {"table_info", "table_xinfo", "foreign_key_list", "index_list", "index_info", "index_xinfo"}
)
_introspecting: ContextVar[bool] = ContextVar("introspecting", default=False)

Authorizer = Callable[..., int]


@contextmanager
def introspection() -> Iterator[None]:
    """Within this block the SQLite catalog may be read: the schema is being introspected."""
    token = _introspecting.set(True)
    try:
        yield
    finally:
        _introspecting.reset(token)


def open_sqlite(url: URL, timeout_s: float) -> ReadOnlyEngine:
    """A pool of read-only connections to the SQLite file `url` names."""
    if not url.database or url.database == ":memory:":
        raise ConfigError("An in-memory SQLite warehouse has no data; give a file path.")
    path = Path(url.database).expanduser().resolve()
    if not path.is_file():
        raise WarehouseUnavailable(f"The SQLite warehouse file {path} does not exist.")
    watch = SQLiteFileWatch(path)
    # Imported here, not at the top: the guard's package reads the dialect registry, which
    # imports this module, so a top-level import would be circular.
    from copilot.core.guard.policy import default_policy

    reads_only = _reads_only(default_policy().is_dangerous_function)

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
        conn.set_authorizer(reads_only)
        return conn

    # A queue of connections, each used by one thread at a time. With "sqlite://" alone
    # SQLAlchemy would pick SingletonThreadPool (meant for :memory:), which closes other
    # threads' connections once more than five threads query: a crash under a scheduler.
    engine = create_engine("sqlite://", creator=connect, poolclass=QueuePool, pool_size=5,
                           max_overflow=20, pool_timeout=60)
    event.listen(engine, "checkout", watch.on_checkout)
    return ReadOnlyEngine(engine, _deadline)


def _reads_only(is_dangerous: Callable[[str], bool]) -> Authorizer:
    """The authorizer: reads only, and none of the guard's dangerous functions."""

    def authorize(action: int, arg1: str | None, arg2: str | None, *_: object) -> int:
        if action == sqlite3.SQLITE_FUNCTION and is_dangerous(arg2 or ""):
            return sqlite3.SQLITE_DENY  # the guard's list, enforced again by SQLite itself
        if action == sqlite3.SQLITE_READ and (arg1 or "").lower().startswith("sqlite_"):
            # The catalog is read by introspection only, never by a query.
            return sqlite3.SQLITE_OK if _introspecting.get() else sqlite3.SQLITE_DENY
        if action in _READ_ACTIONS:
            return sqlite3.SQLITE_OK
        # read_uncommitted is read by SQLAlchemy on every first connect.
        if action == sqlite3.SQLITE_PRAGMA and (
            arg1 == "read_uncommitted"
            or (arg1 in _INTROSPECTION_PRAGMAS and _introspecting.get())
        ):
            return sqlite3.SQLITE_OK
        return sqlite3.SQLITE_DENY

    return authorize


def _deadline(dbapi_connection: Any, seconds: float) -> Callable[[], bool]:
    deadline = time.monotonic() + seconds

    def past_deadline() -> int:
        # A non-zero return makes SQLite abort the statement with "interrupted".
        return int(time.monotonic() > deadline)

    dbapi_connection.set_progress_handler(past_deadline, 10_000)

    def disarm() -> bool:
        dbapi_connection.set_progress_handler(None, 0)
        return time.monotonic() > deadline

    return disarm


DIALECT = Dialect(
    name="sqlite",
    sqlglot="sqlite",
    schemes=("sqlite",),
    url_example="sqlite:///",
    label="SQLite",
    open_engine=open_sqlite,
    default_schemas=("main",),
    # "temp" holds the connection's own temporary objects, never the warehouse's; the
    # catalog tables themselves (sqlite_master, ...) are the guard policy's patterns.
    system_schemas=("temp",),
    errors=ErrorSigns(
        timeout=Signs(phrases=("interrupted",)),  # the progress handler's abort
        # mode=ro and query_only ("attempt to write a readonly database"); the authorizer
        # ("not authorized", "authorization denied").
        read_only=Signs(phrases=("readonly database", "read-only", "not authorized",
                                 "authorization denied")),
        too_big=Signs(phrases=("string or blob too big", "out of memory")),
        damaged=Signs(phrases=("malformed", "not a database")),
        connection_lost=Signs(phrases=("unable to open", "connection")),
    ),
    prompt_name="SQLite",
    prompt_hint=" Whole amounts may be stored as integers: multiply by 1.0 before dividing.",
)

"""PostgreSQL through psycopg: read-only transactions, a server-side time limit and a client one.

Every transaction is read-only (`default_transaction_read_only`, and pinned again at each
BEGIN); the server cancels statements past `statement_timeout` and bounds sorts and
temporary files (`work_mem`, `temp_file_limit`); the client closes the socket of a statement
still running `CLIENT_GRACE_S` after that, so a frozen server or a dead network cannot hang a
question.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL

from copilot.core.dialects.base import (
    CLIENT_GRACE_S,
    Dialect,
    ErrorSigns,
    ReadOnlyEngine,
    Signs,
)

__all__ = ["DIALECT", "PG_TEMP_FILE_LIMIT", "PG_WORK_MEM", "client_deadline", "open_postgres"]

log = logging.getLogger(__name__)

# A PostgreSQL session's memory for one sort or hash, and its temporary files in all.
PG_WORK_MEM = "64MB"
PG_TEMP_FILE_LIMIT = "2GB"


def client_deadline(dbapi_connection: Any, seconds: float) -> Callable[[], bool]:
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


def open_postgres(url: URL, timeout_s: float) -> ReadOnlyEngine:
    """A pool of read-only psycopg sessions, each statement limited to `timeout_s`."""
    if url.drivername in {"postgresql", "postgresql+psycopg2"}:
        url = url.set(drivername="postgresql+psycopg")  # the driver we ship
    timeout_ms = max(1, int(timeout_s * 1000))
    options = (
        "-c default_transaction_read_only=on "
        f"-c statement_timeout={timeout_ms} "
        "-c idle_in_transaction_session_timeout=60000 "
        f"-c work_mem={PG_WORK_MEM}"
    )
    # No pre-ping: a ping to a frozen server would wait forever before any deadline is armed.
    # A pooled connection the server dropped fails its statement instead, and the warehouse
    # layer runs a read-only statement once more on a fresh connection.
    engine = create_engine(
        url,
        connect_args={"options": options, "connect_timeout": 10, "keepalives": 1,
                      "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3},
    )

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

    return ReadOnlyEngine(engine, client_deadline)


DIALECT = Dialect(
    name="postgres",
    sqlglot="postgres",
    schemes=("postgresql",),
    url_example="postgresql+psycopg://",
    label="PostgreSQL",
    open_engine=open_postgres,
    default_schemas=("public",),
    system_schemas=("pg_catalog", "information_schema", "pg_toast"),
    errors=ErrorSigns(
        # psycopg's "connection timeout expired" is a connect that failed, not a slow query.
        unreachable=Signs(phrases=("could not connect", "connection timeout")),
        timeout=Signs(codes=("57014",)),  # query_canceled: statement_timeout
        read_only=Signs(codes=("25006",), phrases=("read-only",)),  # read_only_sql_transaction
        too_big=Signs(phrases=("out of memory",)),
        connection_lost=Signs(phrases=("connection", "could not connect")),
    ),
    prompt_name="PostgreSQL",
)

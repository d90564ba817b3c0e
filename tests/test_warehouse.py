"""The warehouse layer on real SQLite files and a real PostgreSQL server: it runs only what
the guard allowed, it cannot write even when the guard is bypassed (`_run`, on purpose), it
caps rows, it stops slow queries, and it reads the schema the same way on both."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pgserver import PostgresServer
from sqlalchemy import create_engine, text

from copilot.core.connections import driver_missing, redact_url
from copilot.core.errors import (
    ConfigError,
    DriverMissing,
    QueryFailed,
    QueryTimeout,
    ReadOnlyViolation,
    WarehouseError,
    WarehouseUnavailable,
)
from copilot.core.guard import Guard, GuardSchema
from copilot.core.warehouse import QueryResult, Warehouse

# A small schema with a foreign key, created the same way on every backend.
SEED = [
    "CREATE TABLE counterparties (counterparty_id INTEGER PRIMARY KEY,"
    " short_name VARCHAR(32) NOT NULL)",
    "CREATE TABLE trades (trade_id VARCHAR(16) PRIMARY KEY,"
    " counterparty_id INTEGER NOT NULL REFERENCES counterparties (counterparty_id),"
    " notional DECIMAL(20,2) NOT NULL, trade_date DATE NOT NULL)",
    "INSERT INTO counterparties VALUES (1, 'GOLDMAN'), (2, 'JPMORGAN')",
]
SEED += [
    f"INSERT INTO trades VALUES ('TRD{i:07d}', {1 + i % 2}, {1000 + i}.50,"
    f" '2026-11-{1 + i % 20:02d}')"
    for i in range(30)
]

# Statements that change something, each of which the connection itself must refuse.
WRITES = [
    "INSERT INTO counterparties VALUES (3, 'UBS')",
    "UPDATE trades SET notional = 0",
    "DELETE FROM trades",
    "DROP TABLE trades",
    "CREATE TABLE evil (x INTEGER)",
]


def _seed(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in SEED:
            conn.execute(text(statement))
    engine.dispose()


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("wh") / "small.db"
    url = f"sqlite:///{path}"
    _seed(url)
    return url


@pytest.fixture(scope="module")
def postgres_url(postgres: PostgresServer) -> str:
    admin = create_engine(postgres.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE warehouse_small"))
    admin.dispose()
    url = postgres.url("warehouse_small")
    _seed(url)
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def warehouse(request: pytest.FixtureRequest) -> Iterator[Warehouse]:
    url = request.getfixturevalue(f"{request.param}_url")
    wh = Warehouse(url, timeout_s=1.0)
    yield wh
    wh.dispose()


def _query(wh: Warehouse, sql: str, row_cap: int = 10) -> QueryResult:
    guard = Guard(GuardSchema.from_warehouse(wh.schema()), dialect=wh.dialect, row_cap=row_cap)
    verdict = guard.check(sql)
    assert verdict.statement is not None, verdict.reason
    return wh.execute(verdict.statement)


def _trade_count(wh: Warehouse) -> int:
    return _query(wh, "SELECT COUNT(*) FROM trades").rows[0][0]


def test_reads_rows_as_plain_values(warehouse: Warehouse) -> None:
    result = _query(warehouse, "SELECT trade_id, notional, trade_date FROM trades ORDER BY 1")
    assert result.columns == ("trade_id", "notional", "trade_date")
    assert result.rows[0] == ("TRD0000000", 1000.5, "2026-11-01")
    assert result.elapsed_ms > 0


def test_row_cap_fetches_one_more_and_reports_truncation(warehouse: Warehouse) -> None:
    capped = _query(warehouse, "SELECT trade_id FROM trades")
    assert capped.row_count == 10 and capped.truncated
    exact = _query(warehouse, "SELECT trade_id FROM trades", row_cap=30)
    assert exact.row_count == 30 and not exact.truncated


def test_execute_accepts_only_guarded_sql(warehouse: Warehouse) -> None:
    with pytest.raises(TypeError, match="GuardedSQL"):
        warehouse.execute("SELECT COUNT(*) FROM trades")  # type: ignore[arg-type]
    other = "tsql" if warehouse.dialect != "tsql" else "sqlite"
    guard = Guard(GuardSchema.from_warehouse(warehouse.schema()), dialect=other, row_cap=5)
    statement = guard.check("SELECT trade_id FROM trades").statement
    assert statement is not None
    with pytest.raises(QueryFailed, match="checked for"):
        warehouse.execute(statement)


@pytest.mark.parametrize("statement", WRITES)
def test_connection_refuses_to_write(warehouse: Warehouse, statement: str) -> None:
    with pytest.raises(ReadOnlyViolation, match="read-only"):
        warehouse._run(statement, 10)
    assert _trade_count(warehouse) == 30
    assert "evil" not in warehouse.schema(refresh=True).table_names


def test_sqlite_refuses_to_switch_query_only_off(sqlite_url: str) -> None:
    wh = Warehouse(sqlite_url, timeout_s=1.0)
    for statement in ("PRAGMA query_only = OFF", "PRAGMA writable_schema = ON"):
        with pytest.raises(ReadOnlyViolation):
            wh._run(statement, 1)
    with pytest.raises(ReadOnlyViolation):
        wh._run("DELETE FROM trades", 1)
    assert _trade_count(wh) == 30


def test_postgres_refuses_a_data_changing_cte_and_temp_tables(postgres_url: str) -> None:
    wh = Warehouse(postgres_url, timeout_s=1.0)
    for statement in (
        "WITH gone AS (DELETE FROM trades RETURNING *) SELECT COUNT(*) FROM gone",
        "CREATE TEMP TABLE scratch AS SELECT 1 AS x",
        "SELECT * INTO copy_of_trades FROM trades",
    ):
        with pytest.raises(ReadOnlyViolation):
            wh._run(statement, 10)
    assert _trade_count(wh) == 30
    wh.dispose()


def test_postgres_session_defaults_cannot_unlock_the_next_transaction(postgres_url: str) -> None:
    wh = Warehouse(postgres_url, timeout_s=1.0)
    wh._run("SELECT set_config('default_transaction_read_only', 'off', false)", 1)
    wh._run("SELECT set_config('statement_timeout', '0', false)", 1)
    with pytest.raises(ReadOnlyViolation):
        wh._run("DELETE FROM trades", 1)
    with pytest.raises(QueryTimeout):
        wh._run("SELECT pg_sleep(30)", 1)
    assert _trade_count(wh) == 30
    wh.dispose()


SLOW = {
    # A recursive count SQLite would take minutes over.
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
    "WHERE i < 1000000000) SELECT COUNT(*) FROM n",
    "postgres": "SELECT pg_sleep(30)",
}


def test_slow_query_is_cancelled_at_the_time_limit(warehouse: Warehouse) -> None:
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match="1 s limit"):
        warehouse._run(SLOW[warehouse.dialect], 10)
    assert time.monotonic() - started < 5
    assert _trade_count(warehouse) == 30  # the connection is usable afterwards


def test_bad_sql_is_a_query_failure(warehouse: Warehouse) -> None:
    with pytest.raises(QueryFailed, match="rejected"):
        warehouse._run("SELECT no_such_column FROM trades", 10)


def test_introspection_reads_tables_keys_and_foreign_keys(warehouse: Warehouse) -> None:
    schema = warehouse.schema()
    assert schema.table_names == ("counterparties", "trades")
    trades = schema.table("TRADES")
    assert trades.column_names == ("trade_id", "counterparty_id", "notional", "trade_date")
    assert trades.primary_key == ("trade_id",)
    assert [(fk.columns, fk.ref_table, fk.ref_columns) for fk in trades.foreign_keys] == [
        (("counterparty_id",), "counterparties", ("counterparty_id",))
    ]
    assert not trades.columns[1].nullable and trades.columns[0].primary_key
    with pytest.raises(KeyError):
        schema.table("sqlite_master")


def test_missing_sqlite_file_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(WarehouseUnavailable, match="does not exist"):
        Warehouse(f"sqlite:///{tmp_path / 'nope.db'}", timeout_s=1)
    assert not (tmp_path / "nope.db").exists()  # read-only open never creates the file


def test_postgres_that_is_down_is_unavailable() -> None:
    import socket

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    wh = Warehouse(f"postgresql+psycopg://ro@127.0.0.1:{port}/otc", timeout_s=1)
    with pytest.raises(WarehouseUnavailable, match="cannot be reached"):
        wh.ping()


def test_unsupported_or_in_memory_urls_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="supported are"):
        Warehouse("oracle://scott@db/orcl", timeout_s=1)
    with pytest.raises(ConfigError, match="in-memory"):
        Warehouse("sqlite://", timeout_s=1)


def test_missing_odbc_library_names_the_debian_package() -> None:
    error = driver_missing("mssql", ImportError("libodbc.so.2: cannot open shared object file"))
    assert isinstance(error, DriverMissing) and isinstance(error, WarehouseError)
    assert "apt-get install unixodbc" in str(error) and "tdsodbc" in str(error)


def test_mssql_url_needs_no_pyodbc_until_used() -> None:
    # Building a SQL Server engine either works (unixODBC present) or says what to install;
    # it never fails with a bare ImportError.
    try:
        wh = Warehouse("mssql+pyodbc://ro:secret@dsn_otc", timeout_s=1)
    except DriverMissing as exc:
        assert "unixodbc" in str(exc)
    else:
        assert wh.dialect == "tsql"
        assert "secret" not in wh.display_url


def test_redacted_url_hides_the_password() -> None:
    shown = redact_url("postgresql+psycopg://ro:hunter2@db:5432/otc")
    assert "hunter2" not in shown and "ro:***@db" in shown


def test_sqlite_file_is_unchanged_after_refused_writes(sqlite_url: str) -> None:
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    before = path.read_bytes()
    wh = Warehouse(sqlite_url, timeout_s=1.0)
    for statement in WRITES:
        with pytest.raises(ReadOnlyViolation):
            wh._run(statement, 10)
    wh.dispose()
    assert path.read_bytes() == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM trades").fetchone() == (30,)


def test_many_threads_query_one_sqlite_warehouse_at_once(small_demo_db: Path) -> None:
    """Sessions, dashboard fragments and report jobs query from many threads; the read-only
    engine once used SQLAlchemy's SingletonThreadPool, which closed other threads'
    connections beyond five threads and crashed the process."""
    import threading

    warehouse = Warehouse(f"sqlite:///{small_demo_db}", timeout_s=30)
    guard = Guard(GuardSchema.from_warehouse(warehouse.schema()), dialect="sqlite", row_cap=10)
    statement = guard.check("SELECT COUNT(*) FROM trades").statement
    counts: list[int] = []

    def work() -> None:
        for _ in range(10):
            counts.append(warehouse.execute(statement).rows[0][0])
            for _columns, _rows in warehouse.stream(statement, chunk_rows=1):
                pass

    threads = [threading.Thread(target=work) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    warehouse.dispose()
    assert counts == [2000] * 240

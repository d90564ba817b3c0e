"""Warehouse dialects as a registry (copilot/core/dialects/): every shipped dialect says all
the copilot needs, an unknown URL scheme is refused with a message naming the supported
ones, and a dialect registered from outside the package is picked up by the URL lookup, the
warehouse, the guard, the settings and the LLM prompt with no other file edited."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from copilot.core.dialects import (
    Dialect,
    DriverFault,
    ErrorSigns,
    UnsupportedDialect,
    dialect_for_url,
    dialect_named,
    dialects,
    names,
    register,
    schemes,
    unregister,
)
from copilot.core.errors import ConfigError, QueryTimeout, ReadOnlyViolation
from copilot.core.guard import DIALECTS, Guard, GuardSchema, default_policy
from copilot.core.schema import WarehouseSchema
from copilot.core.warehouse import Warehouse
from copilot.llm.prompt import build_prompt
from copilot.settings import load_settings
from training.glossary import Glossary
from training.profiles import ProfileContent

TRADES = GuardSchema(tables={"trades": {"book": "TEXT", "notional": "REAL"}},
                     names={"trades": "trades"})
SELECT = "SELECT book, COUNT(*) AS n FROM trades WHERE notional > 10 GROUP BY book ORDER BY n"


# --- every registered dialect is complete -------------------------------------------------

@pytest.mark.parametrize("dialect", dialects(), ids=lambda d: d.name)
def test_every_registered_dialect_is_complete(dialect: Dialect) -> None:
    for field in dataclasses.fields(Dialect):
        value = getattr(dialect, field.name)
        if field.name != "prompt_hint":  # the one field a dialect may leave empty
            assert value, f"{dialect.name}.{field.name} is empty"
    assert callable(dialect.open_engine)
    assert isinstance(dialect.errors, ErrorSigns)
    # Its sqlglot name is a sqlglot dialect that reads and writes a SELECT.
    tree = sqlglot.parse_one(SELECT, read=dialect.sqlglot)
    assert isinstance(tree, exp.Select)
    again = sqlglot.parse_one(tree.sql(dialect=dialect.sqlglot), read=dialect.sqlglot)
    assert again == tree
    # Its example URL leads back to it, and its name to itself.
    assert dialect_for_url(f"{dialect.url_example}x") is dialect
    assert dialect_named(dialect.name) is dialect
    # Lower case throughout: URLs, the guard and the policy compare them so.
    for name in (*dialect.schemes, *dialect.default_schemas, *dialect.system_schemas):
        assert name == name.lower()
    assert not set(dialect.default_schemas) & set(dialect.system_schemas)
    # The guard accepts it and writes an allowed query in its SQL.
    verdict = Guard(TRADES,
                    dialect=dialect.name, row_cap=10).check(SELECT, read="sqlite")
    assert verdict.allowed, verdict.reason
    assert verdict.statement is not None and verdict.statement.dialect == dialect.name


def test_names_and_schemes_are_unique_across_dialects() -> None:
    all_schemes = [s for d in dialects() for s in d.schemes]
    assert len(all_schemes) == len(set(all_schemes)) == len(schemes())
    assert len(names()) == len(set(names())) == len(dialects())
    assert names()[:3] == ("sqlite", "postgres", "tsql")  # the shipped ones, first
    assert names() == DIALECTS  # the guard's list is the registry's


def test_a_dialect_that_reuses_a_name_or_a_scheme_is_refused() -> None:
    sqlite = dialect_named("sqlite")
    with pytest.raises(ValueError, match="already registered"):
        register(sqlite)
    with pytest.raises(ValueError, match="taken: postgresql"):
        register(dataclasses.replace(sqlite, name="other", schemes=("postgresql",)))
    assert "other" not in names()


# --- what each dialect's driver errors mean ----------------------------------------------

@pytest.mark.parametrize(("dialect", "fault", "kind"), [
    ("sqlite", DriverFault("interrupted"), "timeout"),
    ("sqlite", DriverFault("attempt to write a readonly database"), "read_only"),
    ("sqlite", DriverFault("not authorized"), "read_only"),
    ("sqlite", DriverFault("string or blob too big"), "too_big"),
    ("sqlite", DriverFault("database disk image is malformed"), "damaged"),
    ("sqlite", DriverFault("unable to open database file", operational=True),
     "connection_lost"),
    ("sqlite", DriverFault("no such column: x"), "other"),
    ("postgres", DriverFault("canceling statement due to statement timeout", code="57014"),
     "timeout"),
    ("postgres", DriverFault("cannot execute INSERT in a read-only transaction", code="25006"),
     "read_only"),
    ("postgres", DriverFault("connection timeout expired", operational=True), "unreachable"),
    ("postgres", DriverFault("server closed the connection unexpectedly", operational=True),
     "connection_lost"),
    ("postgres", DriverFault("whatever", operational=True, invalidated=True),
     "connection_lost"),
    # Words of another driver mean nothing here: only SQLite's storage can be "malformed".
    ("postgres", DriverFault("malformed array literal", code="22P02"), "other"),
    ("tsql", DriverFault("Query timeout expired", code="HYT00"), "timeout"),
    ("tsql", DriverFault("Login timeout expired", operational=True), "unreachable"),
    ("tsql", DriverFault("Invalid column name 'x'.", code="42S22"), "other"),
])
def test_each_dialect_classifies_its_driver_errors(
    dialect: str, fault: DriverFault, kind: str
) -> None:
    assert dialect_named(dialect).classify(fault) == kind


def test_sql_server_is_handled_offline() -> None:
    # No SQL Server runs here: its URL and its SQL are what can be checked.
    tsql = dialect_for_url("mssql+pyodbc://ro:secret@dsn_otc")
    assert tsql.name == "tsql" and tsql.default_schemas == ("dbo",)
    guard = Guard(TRADES, dialect="tsql", row_cap=5)
    verdict = guard.check("SELECT book FROM dbo.trades LIMIT 3", read="sqlite")
    assert verdict.allowed and verdict.sql is not None and "TOP 3" in verdict.sql
    refused = guard.check("SELECT name FROM sys.objects")
    assert not refused.allowed and "system catalog" in (refused.reason or "")


@pytest.mark.skipif(
    not os.environ.get("OPSCOPILOT_TEST_MSSQL_URL"),
    reason="no SQL Server can run here; set OPSCOPILOT_TEST_MSSQL_URL to a loopback one",
)
def test_sql_server_live() -> None:
    warehouse = Warehouse(os.environ["OPSCOPILOT_TEST_MSSQL_URL"], timeout_s=2)
    warehouse.ping()
    with pytest.raises(QueryTimeout):
        warehouse._run("WAITFOR DELAY '00:00:10'; SELECT 1", 1)


# --- an unknown scheme --------------------------------------------------------------------

def test_an_unknown_url_scheme_gets_the_typed_error_naming_the_supported_ones() -> None:
    with pytest.raises(UnsupportedDialect) as caught:
        dialect_for_url("oracle://scott:tiger@db/orcl")
    error = caught.value
    assert isinstance(error, ConfigError)  # the CLI prints it as one line, exit status 2
    assert str(error) == (
        "The warehouse URL uses 'oracle'; supported are sqlite, postgresql and mssql "
        "(a URL starting with sqlite:///, postgresql+psycopg:// or mssql+pyodbc://)."
    )
    assert "tiger" not in str(error)
    with pytest.raises(UnsupportedDialect, match="supported are sqlite, postgresql and mssql"):
        Warehouse("oracle://scott@db/orcl", timeout_s=1)
    with pytest.raises(ConfigError, match="not a database URL"):
        dialect_for_url("not a url")
    with pytest.raises(UnsupportedDialect, match="known are sqlite, postgres and tsql"):
        dialect_named("oracle")
    with pytest.raises(ValueError, match="no warehouse dialect 'oracle'"):
        Guard(TRADES, dialect="oracle", row_cap=5)


# --- a new dialect is one module and one line ----------------------------------------------

@pytest.fixture
def lite_file(tmp_path: Path) -> Path:
    path = tmp_path / "lake.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE trades (trade_id TEXT PRIMARY KEY, book TEXT, notional REAL)")
        conn.executemany("INSERT INTO trades VALUES (?, ?, ?)",
                         [(f"T{i}", "RATES" if i % 2 else "FX", 100.0 * i) for i in range(6)])
    conn.close()
    return path


@pytest.fixture
def lite() -> Iterator[Dialect]:
    """A dialect the registry did not ship: SQLite again, under another name and scheme,
    with its own default and system schemas, as a plug-in module would define it."""
    sqlite = dialect_named("sqlite")
    dialect = register(dataclasses.replace(
        sqlite, name="lite", schemes=("litefile",), url_example="litefile:///",
        label="LiteFile", default_schemas=("lake",), system_schemas=("lake_sys",),
        prompt_name="LiteFile SQL", prompt_hint=" Say LAKE in capitals.",
    ))
    try:
        yield dialect
    finally:
        if "lite" in names():  # the test unregisters it once on purpose
            unregister("lite")


def test_a_registered_dialect_is_picked_up_everywhere(
    lite: Dialect, lite_file: Path, tmp_path: Path
) -> None:
    url = f"litefile:///{lite_file}"
    assert dialect_for_url(url) is lite and "litefile" in schemes()

    # The warehouse opens it with the dialect's engine and answers under its name.
    warehouse = Warehouse(url, timeout_s=2)
    assert warehouse.dialect == "lite" and warehouse.sqlglot_dialect == "sqlite"
    schema = GuardSchema.from_warehouse(warehouse.schema())

    # The guard checks for it: its default schema is the warehouse's, its system schema a
    # catalog, and the statement it allows runs on the warehouse of that dialect.
    guard = Guard(schema, dialect="lite", row_cap=3)
    assert guard.check("SELECT book FROM lake.trades").allowed
    refused = guard.check("SELECT * FROM lake_sys.trades")
    assert not refused.allowed and refused.rule == "known_tables"
    assert "system catalog" in (refused.reason or "")
    assert not guard.check("SELECT book FROM main.trades").allowed  # SQLite's, not its own
    verdict = guard.check("SELECT book, notional FROM trades ORDER BY notional DESC")
    assert verdict.statement is not None and verdict.statement.dialect == "lite"
    result = warehouse.execute(verdict.statement)
    assert result.rows == (("RATES", 500.0), ("FX", 400.0), ("RATES", 300.0))
    assert result.truncated
    # Its errors are typed by its own signs: the second wall (SQLite's) holds under it.
    with pytest.raises(ReadOnlyViolation):
        warehouse._run("DELETE FROM trades", 1)
    warehouse.dispose()
    # Another dialect's guard knows nothing of its schemas.
    assert not Guard(schema, dialect="sqlite", row_cap=3).check("SELECT * FROM lake.trades"
                                                                ).allowed

    # The settings take its URLs; the LLM is told its name and hint.
    settings = load_settings({"OPSCOPILOT_WAREHOUSE_URL": url}, env_file=tmp_path / "none")
    assert settings.warehouse.url == url
    system = build_prompt("how many trades?", content=_content(), hits={}, dialect="lite",
                          as_of=date(2026, 11, 20), budget_tokens=100_000).messages[0].content
    assert "from a LiteFile SQL warehouse" in system and "Say LAKE in capitals." in system

    # Gone once unregistered: the registry, not a list somewhere, decides.
    unregister("lite")
    with pytest.raises(UnsupportedDialect, match="'litefile'"):
        dialect_for_url(url)
    with pytest.raises(ValueError, match="no warehouse dialect 'lite'"):
        Guard(schema, dialect="lite", row_cap=3)


def test_the_policy_sections_are_the_registered_sqlglot_dialects() -> None:
    # The policy's per-dialect sections are the registered dialects' sqlglot names.
    assert set(default_policy().native_functions) == {d.sqlglot for d in dialects()}


def _content() -> ProfileContent:
    return ProfileContent(WarehouseSchema(()), {}, Glossary())

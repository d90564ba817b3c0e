"""The guard's functions by allow-list (issue 14, drill 2): what an analyst writes passes in
every dialect, anything nobody listed is refused by name, and a function that can build a
huge string is bounded. The attacks themselves are in fixtures/guard_attacks.yaml (a87-a104)
and run against real servers in test_guard_second_wall.py."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

from copilot.core.guard import Guard, GuardSchema, Verdict, default_policy
from copilot.core.warehouse import Warehouse


@pytest.fixture(scope="module")
def schema(small_demo_db: Path) -> GuardSchema:
    warehouse = Warehouse(f"sqlite:///{small_demo_db}", timeout_s=5)
    return GuardSchema.from_warehouse(warehouse.schema())


def _check(schema: GuardSchema, dialect: str, sql: str) -> Verdict:
    return Guard(schema, dialect=dialect, row_cap=100).check(sql)


ANALYST_SQL = {
    "sqlite": [
        "SELECT count(*), sum(notional), avg(notional), min(trade_date), max(trade_date) "
        "FROM trades",
        "SELECT coalesce(status, 'none'), CASE WHEN notional > 0 THEN 1 ELSE 0 END FROM trades",
        "SELECT strftime('%Y-%m', trade_date), julianday('2026-11-20') - julianday(trade_date),"
        " date(trade_date, '+1 day') FROM trades",
        "SELECT upper(trim(status)), substr(status, 1, 3), length(status), round(notional, 2),"
        " abs(notional), CAST(notional AS INTEGER) FROM trades",
        "SELECT row_number() OVER (ORDER BY notional DESC), rank() OVER (PARTITION BY status "
        "ORDER BY notional), lag(notional) OVER (ORDER BY trade_date) FROM trades",
    ],
    "postgres": [
        "SELECT date_trunc('month', trade_date), extract(year FROM trade_date), "
        "count(*) FILTER (WHERE status = 'x') FROM trades GROUP BY 1, 2",
        "SELECT to_char(trade_date, 'YYYY-MM'), trade_date::date, notional::numeric(18, 2), "
        "nullif(status, ''), greatest(notional, 0) FROM trades",
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY notional), string_agg(status, ',') "
        "FROM trades",
    ],
    "tsql": [
        "SELECT TOP 10 DATEADD(day, 1, trade_date), DATEDIFF(day, trade_date, '2026-11-20'), "
        "CONVERT(VARCHAR(10), trade_date, 120), ISNULL(status, 'none') FROM trades",
        "SELECT YEAR(trade_date), FORMAT(notional, 'N2'), LEN(status), IIF(notional > 0, 1, 0) "
        "FROM trades",
    ],
}


@pytest.mark.parametrize(("dialect", "sql"), [(d, s) for d, queries in ANALYST_SQL.items()
                                              for s in queries])
def test_what_an_analyst_writes_is_allowed(schema: GuardSchema, dialect: str, sql: str) -> None:
    verdict = _check(schema, dialect, sql)
    assert verdict.allowed, verdict.reason


@pytest.mark.parametrize(("dialect", "sql", "name"), [
    ("postgres", "SELECT ts_stat('SELECT to_tsvector(usename) FROM pg_user')", "ts_stat"),
    ("postgres", "SELECT ts_rewrite(to_tsquery('a'), 'SELECT a, b FROM pg_authid')",
     "ts_rewrite"),
    ("postgres", "SELECT to_regclass('pg_authid')", "to_regclass"),
    ("postgres", "SELECT has_table_privilege('trades', 'select')", "has_table_privilege"),
    ("postgres", "SELECT my_schema_udf(notional) FROM trades", "my_schema_udf"),
    ("tsql", "SELECT SUSER_SNAME()", "current_user"),  # sqlglot reads it as CURRENT_USER
    ("tsql", "SELECT HOST_NAME()", "host_name"),
    ("sqlite", "SELECT changes()", "changes"),
    ("sqlite", "SELECT unknown_extension_fn(notional) FROM trades", "unknown_extension_fn"),
])
def test_a_function_nobody_listed_is_refused_by_name(schema: GuardSchema, dialect: str,
                                                     sql: str, name: str) -> None:
    verdict = _check(schema, dialect, sql)
    assert verdict.rule == "safe_functions", verdict.reason
    assert name in verdict.reason.lower()


@pytest.mark.parametrize(("dialect", "sql"), [
    ("postgres", "SELECT pg_catalog.upper(status) FROM trades"),  # the listed name, elsewhere
    ("postgres", "SELECT 'pg_authid'::regclass"),  # a type that reads the catalog
    ("tsql", "SELECT CAST(status AS XML) FROM trades"),
])
def test_a_qualified_call_or_an_unlisted_type_is_refused(schema: GuardSchema, dialect: str,
                                                         sql: str) -> None:
    assert _check(schema, dialect, sql).rule == "safe_functions"


@pytest.mark.parametrize(("dialect", "template"), [
    ("postgres", "SELECT repeat(status, {n}) FROM trades"),
    ("postgres", "SELECT lpad(status, {n}) FROM trades"),
    ("tsql", "SELECT REPLICATE(status, {n}) FROM trades"),
    ("sqlite", "SELECT printf('%{n}d', notional) FROM trades"),
])
def test_growth_is_bounded_at_the_policy_limit(schema: GuardSchema, dialect: str,
                                               template: str) -> None:
    limit = default_policy().max_string_growth
    assert _check(schema, dialect, template.format(n=limit)).allowed
    verdict = _check(schema, dialect, template.format(n=limit * 10))
    assert verdict.rule == "bounded_functions" and f"{limit:,}" in verdict.reason


def test_nested_growth_multiplies(schema: GuardSchema) -> None:
    one = "replace(status, 'a', 'aaaaaaaaaa')"  # at most ten times longer
    assert _check(schema, "sqlite", f"SELECT replace({one}, 'a', 'aaaaaaaaaa') FROM trades"
                  ).allowed  # 100 times
    four = f"replace(replace(replace({one}, 'a', 'aaaaaaaaaa'), 'a', 'aaaaaaaaaa'), 'a', 'aa')"
    assert _check(schema, "sqlite", f"SELECT {four} FROM trades"
                  ).rule == "bounded_functions"  # 2,000 times


@pytest.mark.parametrize("dialect", ["sqlite", "postgres", "tsql"])
def test_nothing_allowed_is_also_never_allowed(dialect: str) -> None:
    policy = default_policy()
    listed = policy.allowed_functions | policy.native_functions[dialect]
    clashes = {name for name in listed for pattern in policy.dangerous_functions
               if fnmatch.fnmatchcase(name, pattern)}
    assert not clashes
    assert policy.size(dialect) > 90  # an analyst's vocabulary, not a token list

"""Entitlements inside the SQL: for each way a statement could try to read around a row
filter, the rewritten statement goes through the real guard and the real warehouse (SQLite
and the test-started PostgreSQL) and must return exactly what a hand-filtered query run by an
unrestricted user returns; the unrestricted answer differs, so each check could fail. Then
the policy loader's errors, each naming the file and the line."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlglot

from copilot.core.entitlements import (
    Entitlements,
    EntitlementsError,
    apply_entitlements,
    load_entitlements,
)
from copilot.core.executor import Executor
from copilot.core.guard import Guard, GuardSchema
from copilot.core.warehouse import Warehouse

POLICY = """\
groups:
  rates-desk: [alice, bob]
  london-ops: [carol]
  auditors: [dave]
rules:
  - group: rates-desk
    tables:
      trades: "asset_class = 'RATES'"
      books: "desk = 'Rates'"
      counterparties: "TRUE"
  - group: london-ops
    tables:
      trades: "currency = 'GBP'"
  - user: carol
    tables:
      trades: "asset_class = 'FX'"
default: deny
unrestricted:
  groups: [auditors]
"""
RATES = "asset_class = 'RATES'"

# (statement a user sends, the same question filtered by hand, run unrestricted)
ESCAPES = {
    "plain select": (
        "SELECT trade_id FROM trades",
        f"SELECT trade_id FROM trades WHERE {RATES}"),
    "count": (
        "SELECT count(*) FROM trades",
        f"SELECT count(*) FROM trades WHERE {RATES}"),
    "union all with the table again": (
        f"SELECT trade_id FROM trades WHERE {RATES} "
        "UNION ALL SELECT trade_id FROM trades WHERE asset_class <> 'RATES'",
        f"SELECT trade_id FROM trades WHERE {RATES}"),
    "except and intersect": (
        "SELECT trade_id FROM trades EXCEPT SELECT trade_id FROM trades WHERE currency = 'XXX' "
        "INTERSECT SELECT trade_id FROM trades",
        f"SELECT trade_id FROM trades WHERE {RATES}"),
    "subquery in from": (
        "SELECT t.trade_id FROM (SELECT * FROM trades) AS t",
        f"SELECT trade_id FROM trades WHERE {RATES}"),
    "in subquery": (
        "SELECT short_name FROM counterparties WHERE counterparty_id IN "
        "(SELECT counterparty_id FROM trades WHERE asset_class = 'FX')",
        "SELECT short_name FROM counterparties WHERE counterparty_id IN "
        f"(SELECT counterparty_id FROM trades WHERE asset_class = 'FX' AND {RATES})"),
    "exists": (
        "SELECT c.short_name FROM counterparties c WHERE EXISTS (SELECT 1 FROM trades t "
        "WHERE t.counterparty_id = c.counterparty_id AND t.asset_class = 'CREDIT')",
        "SELECT c.short_name FROM counterparties c WHERE EXISTS (SELECT 1 FROM trades t "
        "WHERE t.counterparty_id = c.counterparty_id AND t.asset_class = 'CREDIT' "
        f"AND t.{RATES})"),
    "cte aliasing the table": (
        "WITH x AS (SELECT * FROM trades) SELECT trade_id FROM x",
        f"SELECT trade_id FROM trades WHERE {RATES}"),
    "cte named like the table": (
        "WITH trades AS (SELECT book_id AS trade_id FROM books) SELECT trade_id FROM trades",
        "SELECT book_id FROM books WHERE desk = 'Rates'"),
    "self-join with two aliases": (
        "SELECT DISTINCT b.trade_id FROM trades a JOIN trades b "
        "ON b.counterparty_id = a.counterparty_id AND b.trade_id <> a.trade_id",
        "SELECT DISTINCT b.trade_id FROM trades a JOIN trades b "
        "ON b.counterparty_id = a.counterparty_id AND b.trade_id <> a.trade_id "
        f"WHERE a.{RATES} AND b.{RATES}"),
    "self-join reading the other alias": (
        "SELECT DISTINCT b.asset_class FROM trades a JOIN trades b ON b.book_id = a.book_id",
        f"SELECT DISTINCT asset_class FROM trades WHERE {RATES}"),
    "joining through another table": (
        "SELECT t.trade_id, b.book_code FROM books b JOIN trades t ON t.book_id = b.book_id",
        "SELECT t.trade_id, b.book_code FROM books b JOIN trades t ON t.book_id = b.book_id "
        f"WHERE b.desk = 'Rates' AND t.{RATES}"),
    "joining through a table no rule gives": (
        "SELECT DISTINCT t.trade_id FROM settlements s JOIN trades t ON t.trade_id = s.trade_id",
        "SELECT trade_id FROM trades WHERE 1 = 0"),
    "window function": (
        "SELECT trade_id, count(*) OVER () AS n, sum(notional_usd) OVER () AS total "
        "FROM trades",
        "SELECT trade_id, count(*) OVER () AS n, sum(notional_usd) OVER () AS total "
        f"FROM trades WHERE {RATES}"),
    "group by with having": (
        "SELECT asset_class, count(*) AS n FROM trades GROUP BY asset_class "
        "HAVING count(*) > 0",
        f"SELECT asset_class, count(*) AS n FROM trades WHERE {RATES} GROUP BY asset_class"),
    "scalar subquery in the select list": (
        "SELECT book_code, (SELECT count(*) FROM trades t WHERE t.book_id = b.book_id) AS n "
        "FROM books b",
        "SELECT book_code, (SELECT count(*) FROM trades t WHERE t.book_id = b.book_id "
        f"AND t.{RATES}) AS n FROM books b WHERE b.desk = 'Rates'"),
}


@dataclass(frozen=True)
class Place:
    """One warehouse the tests run on: its executor, the guard's schema and the policy."""

    executor: Executor
    schema: GuardSchema
    policy: Entitlements
    dialect: str
    db_schema: str

    def rows(self, sql: str, user: str = "dave", groups: frozenset[str] = frozenset()
             ) -> list[tuple]:
        tree = sqlglot.parse_one(sql, read=self.dialect)
        rewritten, _ = apply_entitlements(tree, user, groups, self.policy, self.schema,
                                          self.dialect)
        executed = self.executor.attempt(rewritten)
        assert executed.verdict.allowed, executed.verdict.reason
        assert executed.error is None, executed.error
        assert executed.result is not None and not executed.result.truncated
        return sorted(tuple(str(v) for v in row) for row in executed.result.rows)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def place(request: pytest.FixtureRequest, small_demo_db: Path,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Place]:
    if request.param == "sqlite":
        warehouse = Warehouse(f"sqlite:///{small_demo_db}", timeout_s=10)
        db_schema = "main"
    else:
        warehouse = Warehouse(request.getfixturevalue("pg_demo_url"), timeout_s=10)
        db_schema = "public"
    schema = GuardSchema.from_warehouse(warehouse.schema())
    guard = Guard(schema, dialect=warehouse.dialect, row_cap=10_000)
    policy_file = tmp_path_factory.mktemp("entitlements") / "entitlements.yaml"
    policy_file.write_text(POLICY, encoding="utf-8")
    policy = load_entitlements(policy_file, schema, dialect=warehouse.sqlglot_dialect)
    yield Place(Executor(guard, warehouse), schema, policy, warehouse.sqlglot_dialect, db_schema)
    warehouse.dispose()


@pytest.mark.parametrize("case", list(ESCAPES))
def test_a_rewritten_query_returns_only_the_users_rows(place: Place, case: str) -> None:
    sql, by_hand = ESCAPES[case]
    expected = place.rows(by_hand)
    assert place.rows(sql, "alice") == expected
    assert place.rows(sql) != expected  # the unrestricted user sees more: the check can fail


def test_a_cte_named_like_the_table_does_not_hide_the_table(place: Place) -> None:
    # PostgreSQL reads `trades` inside the CTE's own body as the table; SQLite calls it a
    # circular reference and refuses. Either way no row outside the entitlement comes back.
    sql = "WITH trades AS (SELECT * FROM trades) SELECT trade_id FROM trades"
    tree = sqlglot.parse_one(sql, read=place.dialect)
    rewritten, applied = apply_entitlements(tree, "alice", frozenset(), place.policy,
                                            place.schema, place.dialect)
    assert applied == (f"trades: {RATES}",)
    executed = place.executor.attempt(rewritten)
    if place.dialect == "sqlite":
        assert executed.error is not None and "circular" in str(executed.error)
    else:
        assert executed.result is not None
        assert sorted((str(r[0]),) for r in executed.result.rows) == place.rows(
            f"SELECT trade_id FROM trades WHERE {RATES}")


def test_a_later_cte_named_like_the_table_is_not_read_as_it(place: Place) -> None:
    # In `a`, `trades` is the table (PostgreSQL) or a circular reference (SQLite); in the
    # main query it is the CTE. The table inside `a` must be filtered.
    sql = ("WITH a AS (SELECT * FROM trades), trades AS (SELECT * FROM a) "
           "SELECT trade_id FROM trades")
    rewritten, _ = apply_entitlements(sqlglot.parse_one(sql, read=place.dialect), "alice",
                                      frozenset(), place.policy, place.schema, place.dialect)
    executed = place.executor.attempt(rewritten)
    if executed.result is None:
        assert place.dialect == "sqlite" and "circular" in str(executed.error)
    else:
        assert sorted((str(r[0]),) for r in executed.result.rows) == place.rows(
            f"SELECT trade_id FROM trades WHERE {RATES}")


def test_a_recursive_cte_still_runs_and_its_table_reads_are_filtered(place: Place) -> None:
    sql = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) "
           "SELECT n.i, (SELECT count(*) FROM trades) AS c FROM n")
    (count,) = place.rows(f"SELECT count(*) FROM trades WHERE {RATES}")[0]
    assert place.rows(sql, "alice") == [("1", count), ("2", count), ("3", count)]


def test_a_schema_qualified_table_is_filtered(place: Place) -> None:
    sql = f"SELECT trade_id FROM {place.db_schema}.trades"
    assert place.rows(sql, "alice") == place.rows(f"SELECT trade_id FROM trades WHERE {RATES}")


def test_a_quoted_table_name_is_filtered(place: Place) -> None:
    sql = 'SELECT "trade_id" FROM "trades"'
    assert place.rows(sql, "bob") == place.rows(f"SELECT trade_id FROM trades WHERE {RATES}")


def test_several_groups_get_the_or_of_their_filters(place: Place) -> None:
    expected = place.rows(
        "SELECT trade_id FROM trades WHERE currency = 'GBP' OR asset_class = 'FX'")
    assert place.rows("SELECT trade_id FROM trades", "carol") == expected
    assert place.rows("SELECT trade_id FROM trades", "erin",
                      frozenset({"london-ops"})) == place.rows(
        "SELECT trade_id FROM trades WHERE currency = 'GBP'")


def test_a_group_from_the_identity_provider_counts(place: Place) -> None:
    assert place.rows("SELECT count(*) FROM trades", "erin", frozenset({"rates-desk"})) == (
        place.rows(f"SELECT count(*) FROM trades WHERE {RATES}"))


def test_an_unknown_user_gets_no_rows(place: Place) -> None:
    assert place.rows("SELECT trade_id FROM trades", "mallory") == []
    assert place.rows("SELECT count(*) FROM trades", "mallory") == [("0",)]
    assert place.rows("SELECT count(*) FROM trades") != [("0",)]


def test_a_table_no_rule_gives_is_empty_under_default_deny(place: Place) -> None:
    assert place.rows("SELECT settlement_id FROM settlements", "alice") == []


def test_default_allow_leaves_other_tables_unfiltered(place: Place, tmp_path: Path) -> None:
    path = tmp_path / "allow.yaml"
    path.write_text(POLICY.replace("default: deny", "default: allow"), encoding="utf-8")
    policy = load_entitlements(path, place.schema, dialect=place.dialect)
    tree = sqlglot.parse_one("SELECT s.settlement_id FROM settlements s JOIN trades t "
                             "ON t.trade_id = s.trade_id", read=place.dialect)
    rewritten, applied = apply_entitlements(tree, "alice", frozenset(), policy, place.schema,
                                            place.dialect)
    assert applied == (f"trades: {RATES}",)
    executed = place.executor.attempt(rewritten)
    assert executed.result is not None
    assert sorted(tuple(str(v) for v in r) for r in executed.result.rows) == place.rows(
        "SELECT s.settlement_id FROM settlements s JOIN trades t ON t.trade_id = s.trade_id "
        f"WHERE t.{RATES}")


def test_an_unrestricted_user_gets_the_statement_unchanged(place: Place) -> None:
    tree = sqlglot.parse_one("SELECT trade_id FROM trades", read=place.dialect)
    for user, groups in (("dave", frozenset()), ("zoe", frozenset({"auditors"}))):
        rewritten, applied = apply_entitlements(tree, user, groups, place.policy,
                                                place.schema, place.dialect)
        assert rewritten.sql() == tree.sql() and applied == ()


def test_the_filters_applied_read_as_a_person_would(place: Place) -> None:
    tree = sqlglot.parse_one("SELECT * FROM trades t JOIN books b ON b.book_id = t.book_id "
                             "JOIN trades u ON u.trade_id = t.trade_id JOIN settlements s "
                             "ON s.trade_id = t.trade_id", read=place.dialect)
    before = tree.sql()
    _, applied = apply_entitlements(tree, "alice", frozenset(), place.policy, place.schema,
                                    place.dialect)
    assert applied == (f"trades: {RATES}", "books: desk = 'Rates'",
                       "settlements: FALSE (no rule gives this table)")
    assert tree.sql() == before  # the caller's tree is not changed


# The loader: every error names the file and the line of what is wrong.

LOADER_ERRORS = {
    "bad yaml": ("default: deny\nrules:\n  - group: x\n   tables: y\ngroups: {}\n", 4,
                 "expected <block end>"),
    "unknown column": (
        "rules:\n  - group: x\n    tables:\n      books: \"desk = 'A'\"\n"
        "      trades: \"desk = 'Rates'\"\n", 5, "has no column desk"),
    "unparsable filter": (
        "rules:\n  - group: x\n    tables:\n      trades: \"asset_class = \"\n", 4,
        "is not a SQL condition"),
    "a delete in a subquery": (
        "rules:\n  - group: x\n    tables:\n      trades: \"(DELETE FROM trades)\"\n", 4,
        "is not a SQL condition"),
    "a subquery reading another table": (
        "rules:\n  - group: x\n    tables:\n"
        "      trades: \"book_id IN (SELECT book_id FROM books)\"\n", 4, "is not allowed"),
    "not a condition": (
        "rules:\n  - group: x\n    tables:\n      trades: \"notional_usd + 1\"\n", 4,
        "must be a condition"),
    "another table's column": (
        "rules:\n  - group: x\n    tables:\n      trades: \"books.desk = 'Rates'\"\n", 4,
        "own columns"),
    "unknown key": ("rules: []\ndefualt: deny\n", 2, "unknown key(s) defualt"),
    "unknown key in a rule": (
        "rules:\n  - group: x\n    who: y\n    tables:\n      trades: \"TRUE\"\n", 3,
        "unknown key(s) who"),
    "both group and user": (
        "rules:\n  - group: x\n    user: y\n    tables:\n      trades: \"TRUE\"\n", 2,
        "exactly one of"),
    "unknown table": (
        "rules:\n  - user: x\n    tables:\n      trade: \"TRUE\"\n", 4, "no table trade"),
    "bad default": ("default: maybe\nrules: []\n", 1, "deny or allow"),
    "an aggregate": (
        "rules:\n  - group: x\n    tables:\n      trades: \"count(*) > 1\"\n", 4,
        "is not allowed"),
}


@pytest.fixture(scope="module")
def sqlite_schema(small_demo_db: Path) -> GuardSchema:
    warehouse = Warehouse(f"sqlite:///{small_demo_db}", timeout_s=10)
    try:
        return GuardSchema.from_warehouse(warehouse.schema())
    finally:
        warehouse.dispose()


@pytest.mark.parametrize("case", list(LOADER_ERRORS))
def test_the_loader_names_the_file_and_line(sqlite_schema: GuardSchema, tmp_path: Path,
                                            case: str) -> None:
    text, line, words = LOADER_ERRORS[case]
    path = tmp_path / "entitlements.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(EntitlementsError) as raised:
        load_entitlements(path, sqlite_schema, dialect="sqlite")
    assert f"{path}, line {line}:" in str(raised.value)
    assert words in str(raised.value)


def test_the_shipped_example_loads(sqlite_schema: GuardSchema) -> None:
    example = Path(__file__).parents[1] / "docs" / "entitlements.example.yaml"
    policy = load_entitlements(example, sqlite_schema, dialect="sqlite")
    assert policy.is_unrestricted("dave") and not policy.is_unrestricted("alice")
    assert set(policy.grants("carol")) == {"trades", "books", "legal_entities"}


# A warehouse whose names are not lower case: PostgreSQL finds "Vessel" only when quoted in
# its exact case, and the guard's exact_names transform spells names so.

MIXED = [
    'CREATE TABLE "Vessel" ("VesselId" INTEGER PRIMARY KEY, "Flag" VARCHAR(4))',
    'INSERT INTO "Vessel" VALUES (1, \'GB\'), (2, \'GB\'), (3, \'PA\')',
]
MIXED_POLICY = "rules:\n  - group: uk\n    tables:\n      Vessel: \"Flag = 'GB'\"\n"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def mixed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[tuple[Executor, Entitlements, str]]:
    folder = tmp_path_factory.mktemp("mixed")
    if request.param == "sqlite":
        import sqlite3

        with sqlite3.connect(folder / "mixed.db") as db:
            for statement in MIXED:
                db.execute(statement)
        db.close()
        warehouse = Warehouse(f"sqlite:///{folder / 'mixed.db'}", timeout_s=10)
    else:
        import psycopg

        server = request.getfixturevalue("postgres")
        with psycopg.connect(f"host=127.0.0.1 port={server.port} user={server.superuser} "
                             "dbname=postgres", autocommit=True) as admin:
            admin.execute("DROP DATABASE IF EXISTS entitlements_mixed")
            admin.execute("CREATE DATABASE entitlements_mixed")
        with psycopg.connect(f"host=127.0.0.1 port={server.port} user={server.superuser} "
                             "dbname=entitlements_mixed", autocommit=True) as db:
            for statement in MIXED:
                db.execute(statement)
        warehouse = Warehouse(server.url("entitlements_mixed"), timeout_s=10)
    schema = GuardSchema.from_warehouse(warehouse.schema())
    (folder / "policy.yaml").write_text(MIXED_POLICY, encoding="utf-8")
    policy = load_entitlements(folder / "policy.yaml", schema, dialect=warehouse.sqlglot_dialect)
    guard = Guard(schema, dialect=warehouse.dialect, row_cap=100)
    yield Executor(guard, warehouse), policy, warehouse.sqlglot_dialect
    warehouse.dispose()


@pytest.mark.parametrize("sql", [
    "SELECT VesselId FROM Vessel",
    "SELECT vessel.vesselid FROM vessel",
    'SELECT "Vessel"."VesselId" FROM "Vessel"',
    "SELECT v.VesselId FROM Vessel v",
    "SELECT a.VesselId FROM Vessel a JOIN Vessel b ON b.VesselId = a.VesselId",
])
def test_names_in_another_case_are_filtered(mixed: tuple[Executor, Entitlements, str],
                                            sql: str) -> None:
    executor, policy, dialect = mixed
    tree = sqlglot.parse_one(sql, read=dialect)
    rewritten, applied = apply_entitlements(tree, "ann", frozenset({"uk"}), policy,
                                            executor.guard.schema, dialect)
    assert applied == ("Vessel: Flag = 'GB'",)
    executed = executor.attempt(rewritten)
    assert executed.result is not None, executed.error or executed.verdict.reason
    assert sorted(row[0] for row in executed.result.rows) == [1, 2]

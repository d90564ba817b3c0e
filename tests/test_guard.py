"""The SQL guard, table-driven: attacks refused by the right rule, analytical queries allowed
and written in the warehouse's dialect. Fixtures: tests/fixtures/guard_*.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
import yaml

from copilot.core.errors import ConfigError
from copilot.core.guard import DIALECTS, Guard, GuardedSQL, GuardSchema, load_policy
from copilot.core.guard.policy import DEFAULT_POLICY_FILE
from copilot.core.warehouse import Warehouse

FIXTURES = Path(__file__).parent / "fixtures"
ATTACKS = yaml.safe_load((FIXTURES / "guard_attacks.yaml").read_text(encoding="utf-8"))
ALLOWED = yaml.safe_load((FIXTURES / "guard_allowed.yaml").read_text(encoding="utf-8"))
ROW_CAP = 5000


@pytest.fixture(scope="module")
def schema(small_demo_db: Path) -> GuardSchema:
    warehouse = Warehouse(f"sqlite:///{small_demo_db}", timeout_s=5)
    return GuardSchema.from_warehouse(warehouse.schema())


def _guard(schema: GuardSchema, dialect: str, row_cap: int = ROW_CAP) -> Guard:
    return Guard(schema, dialect=dialect, row_cap=row_cap)


def test_the_lists_are_as_large_as_promised() -> None:
    assert len(ATTACKS) >= 40 and len(ALLOWED) >= 15
    assert {a["dialect"] for a in ATTACKS} == {"sqlite", "postgres", "tsql"}
    assert len({a["id"] for a in ATTACKS}) == len(ATTACKS)


@pytest.mark.parametrize("attack", ATTACKS, ids=[a["id"] for a in ATTACKS])
def test_attack_is_refused_by_the_right_rule(schema: GuardSchema, attack: dict) -> None:
    verdict = _guard(schema, attack["dialect"]).check(attack["sql"])
    assert not verdict.allowed
    assert verdict.rule == attack["rule"], verdict.reason
    assert verdict.sql is None and verdict.statement is None
    assert verdict.reason.endswith(".") and len(verdict.reason) > 20


@pytest.mark.parametrize("query", ALLOWED, ids=[q["id"] for q in ALLOWED])
def test_analytical_query_is_allowed_in_the_warehouse_dialect(
    schema: GuardSchema, query: dict
) -> None:
    verdict = _guard(schema, query["dialect"]).check(query["sql"])
    assert verdict.allowed, verdict.reason
    assert verdict.rule is None
    for fragment in query["expect"]:
        assert fragment in verdict.sql
    # What will run parses as one query in the target dialect, with the same tables.
    (statement,) = sqlglot.parse(verdict.sql, read=query["dialect"])
    assert isinstance(statement, sqlglot.exp.Query)
    assert verdict.statement is not None and verdict.statement.sql == verdict.sql
    assert set(verdict.tables) <= set(schema.names.values()) and verdict.tables


def test_transpiles_to_each_warehouse_dialect(schema: GuardSchema) -> None:
    sql = "SELECT trade_id FROM trades WHERE status = 'LIVE' ORDER BY notional_usd DESC LIMIT 10"
    rendered = {d: _guard(schema, d).check(sql, read="sqlite").sql for d in DIALECTS}
    assert rendered["tsql"].startswith("SELECT TOP 10 trade_id")
    assert rendered["postgres"].endswith("LIMIT 10")
    assert rendered["sqlite"].endswith("LIMIT 10")


def test_row_cap_is_added_tightened_or_kept(schema: GuardSchema) -> None:
    guard = _guard(schema, "sqlite", row_cap=100)
    assert guard.check("SELECT trade_id FROM trades").sql.endswith("LIMIT 101")
    assert guard.check("SELECT trade_id FROM trades LIMIT 5000").sql.endswith("LIMIT 101")
    assert guard.check("SELECT trade_id FROM trades LIMIT 7").sql.endswith("LIMIT 7")
    assert guard.check("SELECT trade_id FROM trades LIMIT 7 OFFSET 3").sql.endswith(
        "LIMIT 7 OFFSET 3"
    )
    assert guard.check("SELECT trade_id FROM trades LIMIT (SELECT 1)").sql.endswith("LIMIT 101")
    tsql = _guard(schema, "tsql", row_cap=100)
    assert tsql.check("SELECT TOP 1000000 trade_id FROM trades").sql.startswith("SELECT TOP 101")
    assert guard.check("SELECT trade_id FROM trades").statement.row_cap == 100


def test_verdict_names_the_tables_read(schema: GuardSchema) -> None:
    verdict = _guard(schema, "sqlite").check(
        "WITH f AS (SELECT trade_id FROM settlements WHERE status = 'FAILED') "
        "SELECT c.short_name FROM f JOIN trades t ON t.trade_id = f.trade_id "
        "JOIN counterparties c ON c.counterparty_id = t.counterparty_id"
    )
    assert verdict.tables == ("counterparties", "settlements", "trades")


def test_refusals_name_what_is_wrong(schema: GuardSchema) -> None:
    guard = _guard(schema, "sqlite")
    assert "salary" in guard.check("SELECT salary FROM trades").reason
    assert "payroll" in guard.check("SELECT * FROM payroll").reason
    assert "sqlite_master" in guard.check("SELECT * FROM sqlite_master").reason
    assert "LOAD_EXTENSION" in guard.check("SELECT load_extension('x')").reason
    two = guard.check("SELECT 1; DROP TABLE trades").reason
    assert "2 statements" in two
    parse = guard.check("SELEC trade_id FROM trades WHERE (")
    assert parse.rule in {"parse", "read_only"} and not parse.allowed


def test_cte_may_not_shadow_a_catalog_and_schema_prefix_is_checked(schema: GuardSchema) -> None:
    guard = _guard(schema, "sqlite")
    shadow = "WITH sqlite_master AS (SELECT 1 AS x) SELECT x FROM sqlite_master"
    assert not guard.check(shadow).allowed
    assert guard.check("SELECT trade_id FROM main.trades").allowed
    assert guard.check("SELECT trade_id FROM other.trades").rule == "known_tables"
    assert guard.check("WITH x AS (SELECT trade_id FROM trades) SELECT trade_id FROM x").allowed


def test_ast_input_is_checked_like_text(schema: GuardSchema) -> None:
    guard = _guard(schema, "tsql")
    tree = sqlglot.select("short_name").from_("counterparties").where("sector = 'BANK'")
    verdict = guard.check(tree, read="sqlite")
    assert verdict.allowed and verdict.sql.startswith("SELECT TOP 5001 short_name")
    assert tree.args.get("limit") is None  # the caller's tree is not modified
    evil = sqlglot.parse_one("DELETE FROM trades")
    assert guard.check(evil).rule == "read_only"


def test_huge_and_nul_input_is_refused(schema: GuardSchema) -> None:
    guard = _guard(schema, "sqlite")
    assert guard.check("SELECT 1 " + " " * 200_000).rule == "input"
    assert guard.check("SELECT trade_id FROM trades\x00; DROP TABLE trades").rule == "input"
    deep = "SELECT " + "(" * 5000 + "1" + ")" * 5000
    assert not guard.check(deep).allowed


def test_guarded_sql_is_made_only_by_the_guard(schema: GuardSchema) -> None:
    with pytest.raises(TypeError, match="only by the SQL guard"):
        GuardedSQL("DROP TABLE trades", "sqlite", (), 10, seal=object())
    statement = _guard(schema, "sqlite").check("SELECT trade_id FROM trades").statement
    with pytest.raises(AttributeError):
        statement.sql = "DROP TABLE trades"  # type: ignore[misc]


def _shipped_policy(**changes: object) -> str:
    data = yaml.safe_load(DEFAULT_POLICY_FILE.read_text(encoding="utf-8"))
    data.update(changes)
    return yaml.safe_dump(data)


def test_policy_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text(_shipped_policy(dangerous_functions={"sqlite": [1, 2]}))
    with pytest.raises(ConfigError, match=r"policy\.yaml: dangerous_functions\.sqlite"):
        load_policy(bad)
    bad.write_text(_shipped_policy(allowed_functions={"sqlglot": {"math": ["stdev", "abs"]}}))
    with pytest.raises(ConfigError, match=r"allowed_functions\.sqlglot: stdev is not"):
        load_policy(bad)
    bad.write_text(_shipped_policy(allowed_types=["int", "regclasss"]))
    with pytest.raises(ConfigError, match=r"allowed_types: regclasss is not"):
        load_policy(bad)
    bad.write_text(_shipped_policy(max_string_growth=0))
    with pytest.raises(ConfigError, match="max_string_growth"):
        load_policy(bad)
    bad.write_text("system_catalogs: [\n")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_policy(bad)


def test_a_bank_can_extend_the_policy(schema: GuardSchema, tmp_path: Path) -> None:
    own = tmp_path / "policy.yaml"
    sql = "SELECT upper(short_name) FROM counterparties"
    assert _guard(schema, "sqlite").check(sql).allowed
    own.write_text(_shipped_policy(dangerous_functions={"sqlite": ["upper"]}))
    guard = Guard(schema, dialect="sqlite", row_cap=10, policy=load_policy(own))
    assert guard.check(sql).rule == "safe_functions"  # never-allowed wins over allowed
    own.write_text(_shipped_policy(allowed_functions={"sqlglot": ["count"]}))
    guard = Guard(schema, dialect="sqlite", row_cap=10, policy=load_policy(own))
    assert guard.check(sql).rule == "safe_functions"  # not listed: refused
    assert guard.check("SELECT count(*) FROM counterparties").allowed


def test_a_bank_file_keeps_the_sections_it_does_not_name(schema: GuardSchema,
                                                          tmp_path: Path) -> None:
    own = tmp_path / "policy.yaml"
    own.write_text("system_catalogs: [books]\n")
    policy = load_policy(own)
    assert policy.is_system_catalog("books") and not policy.is_system_catalog("sqlite_master")
    assert policy.size("sqlite") == load_policy(DEFAULT_POLICY_FILE).size("sqlite")
    guard = Guard(schema, dialect="sqlite", row_cap=10, policy=policy)
    assert guard.check("SELECT load_extension('x') FROM counterparties").rule == "safe_functions"


def test_names_are_written_as_the_warehouse_spells_them() -> None:
    # A PostgreSQL table created as "Vessel" is not found as vessel: the guard writes the
    # exact spelling, quoted where the dialect would fold it, and checks names in any case.
    from copilot.core.schema import ColumnInfo, TableInfo, WarehouseSchema

    schema = GuardSchema.from_warehouse(WarehouseSchema((TableInfo(
        "Vessel", (ColumnInfo("VesselID", "INTEGER", False, True),
                   ColumnInfo("VesselName", "TEXT", True), ColumnInfo("flag", "TEXT", True)),
        ("VesselID",), ()),)))
    pg = Guard(schema, dialect="postgres", row_cap=10)
    written = pg.check("SELECT v.vesselname FROM vessel AS v WHERE v.FLAG = 'MT'")
    assert written.sql == ('SELECT v."VesselName" FROM "Vessel" AS v WHERE v.flag = \'MT\' '
                           "LIMIT 11")
    sampled = pg.check('SELECT DISTINCT "VesselName" FROM "Vessel"')
    assert sampled.allowed and '"VesselName"' in (sampled.sql or "")
    assert pg.check('SELECT "Nope" FROM "Vessel"').rule == "known_columns"
    lite = Guard(schema, dialect="sqlite", row_cap=10).check("SELECT vesselname FROM vessel")
    assert lite.sql == "SELECT VesselName FROM Vessel LIMIT 11"

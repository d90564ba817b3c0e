"""The demo warehouse against its data contract (otc_schema.sql and the reference YAML).

Real SQLite files in tmp_path; the default-size warehouse is built once per module.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import sqlite3
import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlglot
import yaml
from sqlglot import exp

from copilot.core.errors import DemoDataError
from copilot.demo import DemoSummary, build_demo_warehouse
from copilot.demo.reference import load_reference_data

AS_OF = dt.date(2026, 11, 20)  # a Friday, the as-of date of the development questions
END_OF_DAY = "2026-11-20 23:59:59"
VENDORED = Path(__file__).parents[1] / "copilot" / "demo"
REFERENCE = yaml.safe_load((VENDORED / "otc_reference_data.yaml").read_text())

# The closed value sets of the schema comments, written out as the contract's data.
VALUE_SETS = {
    ("counterparties", "sector"): {"BANK", "HEDGE_FUND", "ASSET_MANAGER", "CORPORATE",
                                   "INSURER", "CCP"},
    ("counterparties", "is_ccp"): {0, 1},
    ("books", "desk"): {"Rates", "Credit", "FX", "Equity Derivatives", "Commodities"},
    ("books", "region"): {"EMEA", "AMER", "APAC"},
    ("trades", "product_type"): {"IRS", "OIS", "CCS", "FX_FORWARD", "FX_SWAP", "FX_OPTION",
                                 "CDS", "CDX", "EQUITY_SWAP", "EQUITY_OPTION", "COMMODITY_SWAP"},
    ("trades", "asset_class"): {"RATES", "FX", "CREDIT", "EQUITY", "COMMODITY"},
    ("trades", "direction"): {"BUY", "SELL"},
    ("trades", "currency"): {"USD", "EUR", "GBP", "JPY", "CHF", "AUD", "CAD", "SGD"},
    ("trades", "clearing"): {"CLEARED", "BILATERAL"},
    ("trades", "ccp"): {"LCH", "CME", "EUREX", "ICE", None},
    ("trades", "execution_venue"): {"VOICE", "SEF", "MTF", "BLOOMBERG", "TRADEWEB"},
    ("trades", "status"): {"LIVE", "MATURED", "TERMINATED", "CANCELLED"},
    ("confirmations", "platform"): {"MARKITWIRE", "DTCC", "SWIFT", "PAPER", "EMAIL"},
    ("confirmations", "method"): {"ELECTRONIC", "MANUAL"},
    ("confirmations", "status"): {"PENDING", "UNMATCHED", "DISPUTED", "MATCHED", "CONFIRMED"},
    ("confirmations", "break_reason"): {"ECONOMIC_MISMATCH", "RATE_MISMATCH", "DATE_MISMATCH",
                                        "NOTIONAL_MISMATCH", "MISSING_COUNTERPARTY_CONFIRM",
                                        None},
    ("netting_sets", "currency"): {"USD", "EUR", "GBP", "JPY", "CHF", "AUD", "CAD", "SGD"},
    ("netting_sets", "status"): {"PROPOSED", "AGREED", "EXCEPTION", "SETTLED"},
    ("netting_sets", "exception_reason"): {"AMOUNT_DISAGREEMENT", "MISSING_TRADE",
                                           "LATE_AGREEMENT", None},
    ("settlements", "currency"): {"USD", "EUR", "GBP", "JPY", "CHF", "AUD", "CAD", "SGD"},
    ("settlements", "direction"): {"PAY", "RECV"},
    ("settlements", "cash_flow_type"): {"COUPON", "PREMIUM", "PRINCIPAL", "FEE", "UPFRONT"},
    ("settlements", "status"): {"PENDING", "SETTLED", "FAILED", "CANCELLED"},
    ("settlements", "fail_reason"): {"SSI_MISMATCH", "INSUFFICIENT_FUNDS", "LATE_INSTRUCTION",
                                     "COUNTERPARTY_FAIL", "SANCTIONS_HOLD", None},
    ("ops_exceptions", "exception_type"): {"CONFIRMATION_BREAK", "SETTLEMENT_FAIL",
                                           "NETTING_BREAK", "MISSING_SSI", "TRADE_AMENDMENT"},
    ("ops_exceptions", "priority"): {"HIGH", "MEDIUM", "LOW"},
    ("ops_exceptions", "status"): {"OPEN", "IN_PROGRESS", "RESOLVED"},
}
ASSET_CLASS = {"IRS": "RATES", "OIS": "RATES", "CCS": "RATES", "FX_FORWARD": "FX",
               "FX_SWAP": "FX", "FX_OPTION": "FX", "CDS": "CREDIT", "CDX": "CREDIT",
               "EQUITY_SWAP": "EQUITY", "EQUITY_OPTION": "EQUITY", "COMMODITY_SWAP": "COMMODITY"}
PRIMARY_KEYS = {"legal_entities": "legal_entity_id", "counterparties": "counterparty_id",
                "books": "book_id", "trades": "trade_id", "confirmations": "confirmation_id",
                "netting_sets": "netting_set_id", "settlements": "settlement_id",
                "ops_exceptions": "exception_id"}
TIMESTAMPS = {"trades": ("created_at", "amended_at"),
              "confirmations": ("sent_at", "matched_at", "confirmed_at"),
              "settlements": ("settled_at",), "ops_exceptions": ("opened_at", "resolved_at")}
DATES = {"counterparties": ("onboarded_date",),
         "trades": ("trade_date", "effective_date", "maturity_date"),
         "netting_sets": ("value_date",), "settlements": ("value_date",)}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[tuple[DemoSummary, sqlite3.Connection]]:
    path = tmp_path_factory.mktemp("demo") / "otc.db"
    summary = build_demo_warehouse(path, as_of=AS_OF)
    db = sqlite3.connect(path)
    yield summary, db
    db.close()


@pytest.fixture(scope="module")
def db(built: tuple[DemoSummary, sqlite3.Connection]) -> sqlite3.Connection:
    return built[1]


def one(db: sqlite3.Connection, sql: str) -> object:
    return db.execute(sql).fetchone()[0]


def contract_schema() -> dict[str, list[str]]:
    source = VENDORED / "otc_schema.sql"  # the data contract, kept in the repository
    tables = {}
    for statement in sqlglot.parse(source.read_text(), read="sqlite"):
        if isinstance(statement, exp.Create):
            schema = statement.this
            tables[schema.this.name] = [c.name for c in schema.expressions
                                        if isinstance(c, exp.ColumnDef)]
    return tables


# --- the contract ------------------------------------------------------------------------------


def test_tables_and_columns_match_the_schema(db: sqlite3.Connection) -> None:
    expected = contract_schema()
    assert len(expected) == 8
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert names == set(expected)
    for table, columns in expected.items():
        assert [r[1] for r in db.execute(f"PRAGMA table_info({table})")] == columns


def test_summary_reports_the_build(built: tuple[DemoSummary, sqlite3.Connection]) -> None:
    summary, db = built
    assert summary.as_of == AS_OF and summary.seed == 7 and summary.elapsed_seconds > 0
    assert summary.path.name == "otc.db"
    for table in PRIMARY_KEYS:
        assert summary.row_counts[table] == one(db, f"SELECT COUNT(*) FROM {table}")


def test_reference_data_matches_the_yaml(db: sqlite3.Connection) -> None:
    entities = db.execute("SELECT legal_entity_id, code, name, country FROM legal_entities "
                          "ORDER BY legal_entity_id").fetchall()
    assert [(e[1], e[2], e[3]) for e in entities] == [
        (e["code"], e["name"], e["country"]) for e in REFERENCE["legal_entities"]]
    parties = db.execute("SELECT short_name, legal_name, sector, country, credit_rating, is_ccp, "
                         "lei FROM counterparties ORDER BY counterparty_id").fetchall()
    assert [p[:5] for p in parties] == [
        (c["short_name"], c["legal_name"], c["sector"], c["country"], c["credit_rating"])
        for c in REFERENCE["counterparties"]]
    assert len(parties) == 26
    assert all(p[5] == (p[2] == "CCP") for p in parties)
    leis = [p[6] for p in parties]
    assert len(set(leis)) == 26 and all(re.fullmatch(r"[0-9A-Z]{18}[0-9]{2}", x) for x in leis)
    assert one(db, "SELECT COUNT(*) FROM counterparties WHERE onboarded_date >= '2024-11-20'") == 0

    entity_code = {e[0]: e[1] for e in entities}
    desks = {d["desk"]: d["code"] for d in REFERENCE["desks"]}
    books = db.execute("SELECT book_code, desk, legal_entity_id, region FROM books").fetchall()
    for code, desk, entity_id, region in books:
        assert re.fullmatch(rf"{desks[desk]}-{entity_code[entity_id].split('-')[1]}-\d\d", code)
        assert region == REFERENCE["regions"][entity_code[entity_id]]
    assert {(b[1], b[2]) for b in books} == {(d, e) for d in desks for e in entity_code}
    assert {r[0] for r in db.execute("SELECT DISTINCT trader FROM trades")} == set(
        REFERENCE["traders"])
    analysts = {r[0] for r in db.execute("SELECT DISTINCT assigned_to FROM ops_exceptions")}
    assert analysts == set(REFERENCE["ops_analysts"]) | {None}


def test_every_value_of_every_value_set_appears(db: sqlite3.Connection) -> None:
    for (table, column), allowed in VALUE_SETS.items():
        seen = {r[0] for r in db.execute(f"SELECT DISTINCT {column} FROM {table}")}
        assert seen == allowed, (table, column, seen ^ allowed)
    # Ratings: only what the reference file gives (it has no AAA, BB or B), NULL included.
    ratings = {r[0] for r in db.execute("SELECT DISTINCT credit_rating FROM counterparties")}
    assert ratings == {c["credit_rating"] for c in REFERENCE["counterparties"]}
    assert None in ratings and ratings <= {"AAA", "AA", "A", "BBB", "BB", "B", None}


def test_storage_formats(db: sqlite3.Connection) -> None:
    date = "[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]"
    for table, columns in DATES.items():
        for column in columns:
            assert one(db, f"SELECT COUNT(*) FROM {table} WHERE {column} NOT GLOB '{date}' "
                           f"OR date({column}) IS NOT {column}") == 0
    for table, columns in TIMESTAMPS.items():
        for column in columns:
            assert one(db, f"SELECT COUNT(*) FROM {table} WHERE {column} IS NOT NULL AND "
                           f"(datetime({column}) IS NOT {column} OR {column} > '{END_OF_DAY}')"
                       ) == 0, (table, column)
    assert one(db, "SELECT COUNT(*) FROM trades WHERE trade_id NOT GLOB 'TRD[0-9][0-9][0-9]"
                   "[0-9][0-9][0-9][0-9]'") == 0
    for table, column in [("trades", "notional"), ("trades", "notional_usd"),
                          ("settlements", "amount"), ("settlements", "amount_usd"),
                          ("netting_sets", "net_amount"), ("netting_sets", "gross_pay")]:
        assert one(db, f"SELECT COUNT(*) FROM {table} WHERE typeof({column}) NOT IN "
                       f"('real', 'integer') OR round({column}, 2) != {column}") == 0
    assert one(db, "SELECT COUNT(*) FROM trades WHERE notional <= 0") == 0
    assert one(db, "SELECT COUNT(*) FROM settlements WHERE amount <= 0 OR amount_usd <= 0 OR "
                   "nostro_account NOT GLOB 'NOSTRO-' || currency || '-0[1-9]'") == 0


# --- consistency -------------------------------------------------------------------------------


def test_trades_are_consistent(db: sqlite3.Connection) -> None:
    for product, asset_class in ASSET_CLASS.items():
        assert one(db, f"SELECT COUNT(*) FROM trades WHERE product_type = '{product}' "
                       f"AND asset_class != '{asset_class}'") == 0
    for desk in REFERENCE["desks"]:
        products = ", ".join(f"'{p}'" for p in desk["products"])
        assert one(db, f"SELECT COUNT(*) FROM trades t JOIN books b USING (book_id) WHERE "
                       f"b.desk = '{desk['desk']}' AND t.product_type NOT IN ({products})") == 0
    checks = [
        "clearing = 'CLEARED' AND (ccp IS NULL OR ccp != c.short_name OR c.is_ccp = 0)",
        "clearing = 'BILATERAL' AND (ccp IS NOT NULL OR c.is_ccp = 1)",
        "effective_date < trade_date OR maturity_date <= effective_date",
        "(status = 'MATURED') != (maturity_date < '2026-11-20')",
        "date(created_at) != trade_date OR amended_at <= created_at",
        "trade_date > '2026-11-20' OR trade_date <= '2024-11-20'",
        "strftime('%w', trade_date) IN ('0', '6')",
    ]
    for check in checks:
        assert one(db, "SELECT COUNT(*) FROM trades t JOIN counterparties c "
                       f"USING (counterparty_id) WHERE {check}") == 0, check
    assert one(db, "SELECT COUNT(*) FROM trades WHERE product_type IN ('FX_FORWARD', "
                   "'FX_OPTION', 'CCS', 'EQUITY_SWAP') AND clearing = 'CLEARED'") == 0
    # One fixed FX rate per currency, the same for trades and settlements. (NUMERIC affinity
    # stores whole amounts as INTEGER, hence 1.0 * to avoid integer division.)
    rates = db.execute("SELECT currency, MIN(r), MAX(r) FROM (SELECT currency, "
                       "1.0 * notional_usd / notional AS r FROM trades WHERE notional > 1e6 "
                       "UNION ALL SELECT currency, 1.0 * amount_usd / amount FROM settlements "
                       "WHERE amount > 1e6) GROUP BY currency").fetchall()
    assert all(high - low <= 1e-5 * high for _, low, high in rates)  # cents rounding


def test_confirmations_are_consistent(db: sqlite3.Connection) -> None:
    assert one(db, "SELECT COUNT(DISTINCT trade_id) FROM confirmations") == one(
        db, "SELECT COUNT(*) FROM trades") == one(db, "SELECT COUNT(*) FROM confirmations")
    checks = [
        "(method = 'ELECTRONIC') != (platform IN ('MARKITWIRE', 'DTCC', 'SWIFT'))",
        "(matched_at IS NOT NULL) != (f.status IN ('MATCHED', 'CONFIRMED'))",
        "(confirmed_at IS NOT NULL) != (f.status = 'CONFIRMED')",
        "(break_reason IS NOT NULL) != (f.status IN ('UNMATCHED', 'DISPUTED'))",
        "sent_at <= t.created_at OR matched_at < sent_at OR confirmed_at < matched_at",
    ]
    for check in checks:
        assert one(db, "SELECT COUNT(*) FROM confirmations f JOIN trades t USING (trade_id) "
                       f"WHERE {check}") == 0, check


def test_settlements_are_consistent(db: sqlite3.Connection) -> None:
    checks = [
        "(fail_reason IS NOT NULL) != (s.status = 'FAILED')",
        "(settled_at IS NOT NULL) != (s.status = 'SETTLED')",
        "date(settled_at) < value_date",
        "value_date > '2026-11-20' AND s.status IN ('SETTLED', 'FAILED')",
        "value_date < '2026-11-20' AND s.status = 'PENDING'",
        "value_date NOT BETWEEN '2026-08-22' AND '2026-12-20'",
        "strftime('%w', value_date) IN ('0', '6')",
        "value_date < t.trade_date",
        "t.status = 'CANCELLED' AND s.status != 'CANCELLED'",
        "t.clearing = 'CLEARED' AND netting_set_id IS NOT NULL",
    ]
    for check in checks:
        assert one(db, "SELECT COUNT(*) FROM settlements s JOIN trades t USING (trade_id) "
                       f"WHERE {check}") == 0, check
    per_trade = db.execute("SELECT MIN(n), MAX(n), AVG(n) FROM (SELECT COUNT(*) AS n "
                           "FROM settlements GROUP BY trade_id)").fetchone()
    assert per_trade[0] >= 1 and per_trade[1] <= 4 and 1.8 <= per_trade[2] <= 3.0
    flows = dict(db.execute("SELECT t.product_type || '/' || s.cash_flow_type, COUNT(*) FROM "
                            "settlements s JOIN trades t USING (trade_id) GROUP BY 1"))
    assert {k.split("/")[1] for k in flows if k.startswith(("FX_OPTION", "EQUITY_OPTION"))} <= {
        "PREMIUM", "PRINCIPAL", "FEE"}
    assert {k.split("/")[1] for k in flows if k.startswith(("IRS", "OIS"))} == {"COUPON", "FEE"}
    assert {k.split("/")[1] for k in flows if k.startswith("FX_FORWARD")} <= {"PRINCIPAL", "FEE"}
    assert sum(v for k, v in flows.items() if k.endswith("/FEE")) < 0.02 * sum(flows.values())


def test_netting_sets_add_up(db: sqlite3.Connection) -> None:
    assert one(db, "SELECT COUNT(*) FROM netting_sets WHERE "
                   "abs(net_amount - (gross_receive - gross_pay)) > 0.005") == 0
    rows = db.execute("""
        SELECT n.netting_set_id, n.gross_pay, n.gross_receive, n.settlement_count,
               SUM(CASE WHEN s.direction = 'PAY' THEN s.amount ELSE 0 END),
               SUM(CASE WHEN s.direction = 'RECV' THEN s.amount ELSE 0 END), COUNT(s.settlement_id),
               SUM(s.currency != n.currency OR s.value_date != n.value_date
                   OR t.counterparty_id != n.counterparty_id OR t.clearing != 'BILATERAL')
        FROM netting_sets n LEFT JOIN settlements s USING (netting_set_id)
        LEFT JOIN trades t USING (trade_id) GROUP BY n.netting_set_id""").fetchall()
    assert rows
    for _, pay, receive, count, member_pay, member_receive, members, strangers in rows:
        assert abs(pay - member_pay) < 0.005 and abs(receive - member_receive) < 0.005
        assert count == members >= 2 and strangers == 0
    assert one(db, "SELECT COUNT(*) FROM (SELECT 1 FROM netting_sets "
                   "GROUP BY counterparty_id, currency, value_date HAVING COUNT(*) > 1)") == 0
    # Maximal grouping: no two pending bilateral flows of one key are left un-netted.
    assert one(db, "SELECT COUNT(*) FROM (SELECT 1 FROM settlements s JOIN trades t "
                   "USING (trade_id) WHERE t.clearing = 'BILATERAL' AND s.status = 'PENDING' "
                   "AND s.netting_set_id IS NULL AND s.value_date > '2026-11-20' "
                   "GROUP BY t.counterparty_id, s.currency, s.value_date HAVING COUNT(*) > 1)"
               ) == 0
    checks = [
        "(exception_reason IS NOT NULL) != (status = 'EXCEPTION')",
        "value_date > '2026-11-20' AND status = 'SETTLED'",
        "value_date < '2026-11-20' AND status IN ('PROPOSED', 'AGREED')",
    ]
    for check in checks:
        assert one(db, f"SELECT COUNT(*) FROM netting_sets WHERE {check}") == 0, check
    assert one(db, "SELECT COUNT(*) FROM settlements s JOIN netting_sets n USING "
                   "(netting_set_id) WHERE n.status = 'SETTLED' AND s.status != 'SETTLED'") == 0


def test_exceptions_are_consistent(db: sqlite3.Connection) -> None:
    checks = [
        "(resolved_at IS NOT NULL) != (e.status = 'RESOLVED') OR resolved_at <= opened_at",
        "e.status != 'OPEN' AND assigned_to IS NULL",
        "opened_at < t.created_at",
        "e.exception_type = 'TRADE_AMENDMENT' AND (t.amended_at IS NULL "
        "OR opened_at < t.amended_at)",
        "e.exception_type != 'NETTING_BREAK' AND e.trade_id IS NULL",
        "description IS NULL OR length(description) NOT BETWEEN 20 AND 400",
    ]
    for check in checks:
        assert one(db, "SELECT COUNT(*) FROM ops_exceptions e LEFT JOIN trades t "
                       f"USING (trade_id) WHERE {check}") == 0, check
    # Every current break and fail has a case; open break cases point at broken confirmations.
    assert one(db, "SELECT COUNT(*) FROM confirmations f WHERE status IN ('UNMATCHED', "
                   "'DISPUTED') AND NOT EXISTS (SELECT 1 FROM ops_exceptions e WHERE "
                   "e.trade_id = f.trade_id AND e.exception_type = 'CONFIRMATION_BREAK' "
                   "AND e.status != 'RESOLVED' AND e.opened_at >= f.sent_at)") == 0
    assert one(db, "SELECT COUNT(*) FROM ops_exceptions e JOIN confirmations f USING "
                   "(trade_id) WHERE e.exception_type = 'CONFIRMATION_BREAK' AND e.status != "
                   "'RESOLVED' AND f.status NOT IN ('UNMATCHED', 'DISPUTED')") == 0
    assert one(db, "SELECT COUNT(*) FROM settlements s WHERE status = 'FAILED' AND NOT EXISTS "
                   "(SELECT 1 FROM ops_exceptions e WHERE e.trade_id = s.trade_id AND "
                   "e.exception_type = 'SETTLEMENT_FAIL' AND date(e.opened_at) = s.value_date)"
               ) == 0
    assert one(db, "SELECT COUNT(*) FROM ops_exceptions WHERE exception_type = 'NETTING_BREAK'"
               ) == one(db, "SELECT COUNT(*) FROM netting_sets WHERE status = 'EXCEPTION'")


# --- realism -----------------------------------------------------------------------------------


def test_trade_volume_grows_and_covers_the_as_of_date(db: sqlite3.Connection) -> None:
    assert one(db, "SELECT COUNT(*) FROM trades") >= 20_000
    early = one(db, "SELECT COUNT(*) FROM trades WHERE trade_date < '2025-02-20'")
    recent = one(db, "SELECT COUNT(*) FROM trades WHERE trade_date > '2026-08-20'")
    assert recent > 1.5 * early
    for day in ("2026-11-20", "2026-11-19", "2026-11-16"):
        assert one(db, f"SELECT COUNT(*) FROM trades WHERE trade_date = '{day}'") >= 20
    currencies = [r[0] for r in db.execute(
        "SELECT currency FROM trades GROUP BY 1 ORDER BY COUNT(*) DESC")]
    assert currencies[:2] == ["USD", "EUR"]
    assert one(db, "SELECT COUNT(*) FROM trades WHERE status = 'LIVE' "
                   "AND notional_usd > 100000000") > 100
    assert one(db, "SELECT AVG(notional_usd) FROM trades WHERE asset_class = 'RATES'") > 2e7


def test_confirmations_age_realistically(db: sqlite3.Connection) -> None:
    old_done = one(db, "SELECT AVG(f.status IN ('MATCHED', 'CONFIRMED')) FROM confirmations f "
                       "JOIN trades t USING (trade_id) WHERE t.trade_date < '2026-10-01'")
    today_pending = one(db, "SELECT AVG(f.status = 'PENDING') FROM confirmations f JOIN trades t "
                            "USING (trade_id) WHERE t.trade_date = '2026-11-20'")
    assert old_done > 0.95 and today_pending > 0.3
    assert one(db, "SELECT COUNT(*) FROM confirmations f JOIN trades t USING (trade_id) WHERE "
                   "f.status IN ('PENDING', 'UNMATCHED', 'DISPUTED') "
                   "AND t.trade_date < '2026-11-15'") > 0


def test_settlement_activity_around_the_as_of_date(db: sqlite3.Connection) -> None:
    def count(where: str) -> object:
        return one(db, f"SELECT COUNT(*) FROM settlements WHERE {where}")

    for day in ("2026-11-20", "2026-11-19"):
        assert count(f"value_date = '{day}'") >= 100
        assert count(f"value_date = '{day}' AND status = 'FAILED'") >= 1
    assert count("value_date BETWEEN '2026-11-16' AND '2026-11-20' AND status = 'FAILED'") >= 10
    assert count("value_date BETWEEN '2026-11-09' AND '2026-11-15' AND status = 'FAILED'") >= 10
    assert count("value_date BETWEEN '2026-11-21' AND '2026-11-25' AND status = 'PENDING'") >= 300
    assert count("value_date = '2026-11-20' AND status = 'PENDING'") >= 1
    fail_rate = one(db, "SELECT AVG(status = 'FAILED') FROM settlements "
                        "WHERE status IN ('SETTLED', 'FAILED')")
    assert 0.01 <= fail_rate <= 0.06
    reasons = dict(db.execute("SELECT fail_reason, COUNT(*) FROM settlements "
                              "WHERE status = 'FAILED' GROUP BY 1"))
    top_two = sorted(reasons, key=reasons.get, reverse=True)[:2]
    assert set(top_two) == {"SSI_MISMATCH", "LATE_INSTRUCTION"}
    assert reasons["SANCTIONS_HOLD"] == min(reasons.values())
    rates = [r[0] for r in db.execute(
        "SELECT AVG(s.status = 'FAILED') FROM settlements s JOIN trades t USING (trade_id) "
        "WHERE s.status IN ('SETTLED', 'FAILED') GROUP BY t.counterparty_id HAVING COUNT(*) >= 50")]
    assert max(rates) >= 3 * statistics.median(rates)
    assert one(db, "SELECT COUNT(*) FROM netting_sets WHERE value_date = '2026-11-23'") > 0


def test_exception_queue_looks_like_an_ops_desk(db: sqlite3.Connection) -> None:
    assert one(db, "SELECT COUNT(*) FROM ops_exceptions WHERE status = 'OPEN' "
                   "AND assigned_to IS NULL AND priority = 'HIGH'") > 0
    assert one(db, "SELECT COUNT(*) FROM ops_exceptions WHERE date(opened_at) = '2026-11-20'") > 5
    old_resolved = one(db, "SELECT AVG(status = 'RESOLVED') FROM ops_exceptions "
                           "WHERE opened_at < '2026-10-01'")
    recent_open = one(db, "SELECT AVG(status != 'RESOLVED') FROM ops_exceptions "
                          "WHERE opened_at >= '2026-11-19'")
    assert old_resolved > 0.8 and recent_open > 0.5
    assert one(db, "SELECT COUNT(*) FROM ops_exceptions WHERE exception_type = 'MISSING_SSI' AND "
                   "trade_id IN (SELECT trade_id FROM settlements WHERE status = 'PENDING')") > 0


# --- determinism, arguments, files -------------------------------------------------------------


def dump(path: Path) -> str:
    digest = hashlib.sha256()
    with sqlite3.connect(path) as db:
        for table, key in PRIMARY_KEYS.items():
            for row in db.execute(f"SELECT * FROM {table} ORDER BY {key}"):
                digest.update(repr(row).encode())
    return digest.hexdigest()


def test_same_seed_same_rows_other_seed_other_rows(tmp_path: Path) -> None:
    first = build_demo_warehouse(tmp_path / "a.db", as_of=AS_OF, trades=1500)
    build_demo_warehouse(tmp_path / "b.db", as_of=AS_OF, trades=1500)
    build_demo_warehouse(tmp_path / "c.db", as_of=AS_OF, trades=1500, seed=8)
    assert first.row_counts["trades"] == 1500
    assert dump(tmp_path / "a.db") == dump(tmp_path / "b.db")
    assert dump(tmp_path / "a.db") != dump(tmp_path / "c.db")


@pytest.mark.parametrize("trades", [1, 7])
def test_tiny_warehouses_build(tmp_path: Path, trades: int) -> None:
    summary = build_demo_warehouse(tmp_path / "tiny.db", as_of=dt.date(2028, 2, 29),
                                   trades=trades)
    assert summary.row_counts["trades"] == summary.row_counts["confirmations"] == trades


@pytest.mark.parametrize("kwargs", [
    {"trades": 0}, {"trades": -5}, {"trades": True}, {"trades": 2.5}, {"trades": "100"},
    {"seed": -1}, {"seed": "7"}, {"as_of": "2026-11-20"}, {"as_of": None},
])
def test_bad_arguments_raise_demo_data_error(tmp_path: Path, kwargs: dict[str, object]) -> None:
    arguments: dict[str, object] = {"as_of": AS_OF, "trades": 10}
    arguments.update(kwargs)
    with pytest.raises(DemoDataError) as raised:
        build_demo_warehouse(tmp_path / "x.db", **arguments)  # type: ignore[arg-type]
    assert "must" in str(raised.value)
    assert not (tmp_path / "x.db").exists()


def test_unwritable_paths_raise_demo_data_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(DemoDataError, match="Cannot write the demo warehouse"):
        build_demo_warehouse(blocker / "otc.db", as_of=AS_OF, trades=10)
    with pytest.raises(DemoDataError, match="it is a folder"):
        build_demo_warehouse(tmp_path, as_of=AS_OF, trades=10)


def test_existing_file_is_replaced_atomically(tmp_path: Path) -> None:
    target = tmp_path / "otc.db"
    target.write_text("an old warehouse")
    with pytest.raises(DemoDataError):
        build_demo_warehouse(target, as_of=AS_OF, trades=0)
    assert target.read_text() == "an old warehouse"  # a failed build leaves it alone
    build_demo_warehouse(target, as_of=AS_OF, trades=50)
    with sqlite3.connect(target) as db:
        assert one(db, "SELECT COUNT(*) FROM trades") == 50
    assert [p.name for p in tmp_path.iterdir()] == ["otc.db"]  # no temporary file left


def test_bad_reference_data_names_the_file_and_line(tmp_path: Path) -> None:
    text = (VENDORED / "otc_reference_data.yaml").read_text()
    broken = tmp_path / "reference.yaml"
    broken.write_text(text.replace("sector: HEDGE_FUND,    country: US, credit_rating: null}",
                                   "sector: HEDGEFUND,     country: US, credit_rating: null}", 1))
    line = next(i for i, row in enumerate(broken.read_text().splitlines(), 1) if "HEDGEFUND" in row)
    with pytest.raises(DemoDataError, match=rf"{re.escape(str(broken))}, line {line}: 'sector'"):
        load_reference_data(broken)
    assert load_reference_data().counterparties[0].short_name == "JPMORGAN"

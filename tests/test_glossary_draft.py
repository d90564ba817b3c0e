"""Drafting a glossary from a schema alone (training/draft.py): three warehouses made here in
the naming styles banks have (snake_case with abbreviations, CamelCase, UPPER legacy), on
SQLite and PostgreSQL; every draft loads and trains as is, every guess says how it was
inferred, and a drafted term never changes what a schema-only question means."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

import psycopg
import pytest
import yaml
from pgserver import PostgresServer

from copilot.core.executor import Executor
from copilot.core.guard import Guard, GuardSchema
from copilot.core.warehouse import Warehouse
from copilot.engine.answer import Engine
from copilot.values import Answer
from training.draft import DraftRefused, GlossaryDraft, draft_glossary, mark_reviewed, write_draft
from training.glossary import Glossary, load_glossary
from training.ingest import sample_values
from training.profiles import ProfileContent
from training.trainer import build_content

AS_OF = date(2026, 11, 20)
Rows = Sequence[tuple[object, ...]]
# (DDL, rows) per table, in foreign-key order; names quoted so PostgreSQL keeps their case.
SNAKE: list[tuple[str, Rows]] = [
    ('CREATE TABLE "cpty" ("cpty_id" INTEGER PRIMARY KEY, "cpty_nm" VARCHAR(40) NOT NULL, '
     '"ctry_cd" VARCHAR(2))', [(1, "ACME", "US"), (2, "GLOBEX", "GB"), (3, "INITECH", "DE")]),
    ('CREATE TABLE "trd" ("trd_id" VARCHAR(12) PRIMARY KEY, "cpty_id" INTEGER NOT NULL '
     'REFERENCES "cpty" ("cpty_id"), "trd_dt" DATE NOT NULL, "mat_dt" DATE, '
     '"cpty_ccy_amt" DECIMAL(18, 2) NOT NULL, "ccy" VARCHAR(3) NOT NULL, '
     '"trd_sts" VARCHAR(10) NOT NULL)',
     [(f"T{i:04d}", 1 + i % 3, f"2026-11-{1 + i % 19:02d}", None, 1000.0 * i,
       ("EUR", "USD")[i % 2], ("LIVE", "DEAD")[i % 2]) for i in range(40)]),
    ('CREATE TABLE "stl" ("stl_id" INTEGER PRIMARY KEY, "trd_id" VARCHAR(12) NOT NULL '
     'REFERENCES "trd" ("trd_id"), "cpty_id" INTEGER REFERENCES "cpty" ("cpty_id"), '
     '"val_dt" DATE NOT NULL, "pmt_amt" DECIMAL(18, 2) NOT NULL, "stl_sts" VARCHAR(10) NOT NULL)',
     [(i, f"T{i:04d}", 1 + i % 3, f"2026-11-{1 + i % 19:02d}", 50.0 * i,
       ("SETTLED", "FAILED", "PENDING")[i % 3]) for i in range(40)]),
]
CAMEL: list[tuple[str, Rows]] = [
    ('CREATE TABLE "Vessel" ("VesselId" INTEGER PRIMARY KEY, "Name" VARCHAR(40) NOT NULL, '
     '"Flag" VARCHAR(20), "GrossTonnage" INTEGER, "YearBuilt" INTEGER, "BuiltDate" DATE)',
     [(1, "Aurora", "Panama", 50000, 2012, "2012-03-01"),
      (2, "Borealis", "Liberia", 42000, 2008, "2008-05-01"),
      (3, "Cygnus", "Panama", 61000, 2015, "2015-07-01")]),
    ('CREATE TABLE "Port" ("PortId" INTEGER PRIMARY KEY, "PortName" VARCHAR(40) NOT NULL, '
     '"Country" VARCHAR(20))', [(1, "Rotterdam", "NL"), (2, "Singapore", "SG"),
                                (3, "Houston", "US")]),
    ('CREATE TABLE "Voyage" ("VoyageId" INTEGER PRIMARY KEY, "VesselId" INTEGER NOT NULL '
     'REFERENCES "Vessel" ("VesselId"), "OriginPortId" INTEGER NOT NULL REFERENCES "Port" '
     '("PortId"), "DestPortId" INTEGER REFERENCES "Port" ("PortId"), "DepartureDate" DATE '
     'NOT NULL, "ArrivalDate" DATE, "CargoTons" DECIMAL(12, 1), "Status" VARCHAR(12))',
     [(i, 1 + i % 3, 1 + i % 3, 1 + (i + 1) % 3, f"2026-10-{1 + i % 28:02d}", None, 100.0 * i,
       ("ARRIVED", "AT_SEA")[i % 2]) for i in range(30)]),
]
UPPER: list[tuple[str, Rows]] = [
    ('CREATE TABLE "CUST_MSTR" ("CUST_NO" INTEGER PRIMARY KEY, "CUST_NM" VARCHAR(40) NOT NULL, '
     '"SEG_CD" VARCHAR(4), "OPEN_DT" DATE)',
     [(1, "SMITH", "RET", "2020-01-01"), (2, "JONES", "CORP", "2021-01-01")]),
    ('CREATE TABLE "CUST_ACCT" ("CUST_ACCT_NO" VARCHAR(12) PRIMARY KEY, "CUST_NO" INTEGER NOT '
     'NULL REFERENCES "CUST_MSTR" ("CUST_NO"), "ACCT_TYP" VARCHAR(4) NOT NULL, '
     '"BAL_AMT" DECIMAL(18, 2), "OPEN_DT" DATE NOT NULL, "CLS_DT" DATE)',
     [(f"A{i}", 1 + i % 2, ("CHK", "SAV")[i % 2], 100.0 * i, "2022-01-01", None)
      for i in range(10)]),
    ('CREATE TABLE "ACCT_TXN" ("TXN_ID" INTEGER PRIMARY KEY, "CUST_ACCT_NO" VARCHAR(12) NOT '
     'NULL REFERENCES "CUST_ACCT" ("CUST_ACCT_NO"), "TXN_DT" DATE NOT NULL, "POST_TS" '
     'TIMESTAMP NOT NULL, "TXN_AMT" DECIMAL(18, 2) NOT NULL, "TXN_TYP" VARCHAR(6) NOT NULL)',
     [(i, f"A{i % 10}", f"2026-11-{1 + i % 19:02d}", f"2026-11-{1 + i % 19:02d} 10:00:00",
       10.0 * i, ("DEP", "WDL", "FEE")[i % 3]) for i in range(60)]),
]
STYLES = {"snake": SNAKE, "camel": CAMEL, "upper": UPPER}
# What each style's draft must answer as is, and part of the SQL it writes (unquoted).
ASKED = {
    "snake": [("how many trades", "FROM trd"), ("trades this month", "trd.trd_dt BETWEEN"),
              ("the biggest trades", "ORDER BY trd.cpty_ccy_amt DESC"),
              ("counterparties in DE", "cpty.cpty_nm")],
    "camel": [("how many vessels are there", "FROM Vessel"),
              ("voyages last month", "Voyage.DepartureDate BETWEEN"),
              ("the biggest vessels", "ORDER BY Vessel.GrossTonnage DESC"),
              ("vessels with flag Panama", "'Panama'")],
    "upper": [("how many customers", "FROM CUST_MSTR"),
              ("transactions this month", "ACCT_TXN.TXN_DT BETWEEN"),
              ("customer accounts by account type", "GROUP BY CUST_ACCT.ACCT_TYP"),
              ("largest customer accounts", "ORDER BY CUST_ACCT.BAL_AMT DESC")],
}


def _sqlite(path: Path, tables: list[tuple[str, Rows]]) -> Path:
    with sqlite3.connect(path) as db:
        for ddl, rows in tables:
            db.execute(ddl)
            name = ddl.split('"')[1]
            if rows:
                db.executemany(f'INSERT INTO "{name}" VALUES ({", ".join("?" * len(rows[0]))})',
                               rows)
    db.close()
    return path


def _unquoted(answer: Answer) -> str:
    return (answer.sql or "").replace('"', "")  # PostgreSQL quotes CamelCase names


class Drafted:
    """A warehouse, its guard, and the glossary drafted for it in `folder`."""

    def __init__(self, url: str, folder: Path) -> None:
        self.warehouse = Warehouse(url, timeout_s=10)
        schema = self.warehouse.schema()
        self.guard = Guard(GuardSchema.from_warehouse(schema), dialect=self.warehouse.dialect,
                           row_cap=1000)
        self.query = Executor(self.guard, self.warehouse).run
        self.values = sample_values(schema, self.query).columns
        self.draft: GlossaryDraft = draft_glossary(schema, self.values, source=url)
        write_draft(self.draft, folder)
        self.folder = folder
        self.glossary = load_glossary(folder)

    def content(self, glossary: Glossary | None = None) -> ProfileContent:
        return build_content(self.warehouse, glossary or self.glossary, self.query)

    def ask(self, question: str, content: ProfileContent | None = None) -> Answer:
        return Engine(content or self.content()).answer(
            question, AS_OF, run=Executor(self.guard, self.warehouse))


@pytest.fixture(params=sorted(STYLES))
def drafted(request: pytest.FixtureRequest, tmp_path: Path) -> Drafted:
    db = _sqlite(tmp_path / f"{request.param}.db", STYLES[request.param])
    found = Drafted(f"sqlite:///{db}", tmp_path / "glossary")
    found.style = request.param  # type: ignore[attr-defined]
    return found


def test_each_naming_style_drafts_a_glossary_that_trains_and_answers_as_is(
        drafted: Drafted) -> None:
    content = drafted.content()  # the checks of training: names, stored values
    counts = content.counts()
    assert counts["entities"] == 3 and counts["rules"] >= 2 and counts["drafted"] == 1
    assert drafted.glossary.drafted and content.drafted
    assert drafted.draft.entities == 3 and drafted.draft.terms == len(drafted.glossary.terms)
    for question, expected in ASKED[drafted.style]:  # type: ignore[attr-defined]
        answer = drafted.ask(question, content)
        assert answer.status == "answered", (question, answer.interpretation)
        assert expected in _unquoted(answer), (question, answer.sql)


def test_every_guess_says_how_it_was_inferred(drafted: Drafted) -> None:
    guessed = ("  - name:", "    synonyms:", "    list_columns:", "    label:", "    measure:",
               "drafted:", "  - {from:", "  - id:")
    for name, text in drafted.draft.files.items():
        assert text.startswith("# Drafted by `python -m copilot glossary draft`"), name
        for line in text.splitlines():
            if line.startswith(guessed):
                assert "  # " in line, (name, line)
    rules = drafted.draft.files["rules.yaml"]
    period_lines = [line for line in rules.splitlines() if "# period column:" in line]
    assert len(period_lines) == drafted.draft.period_columns >= 2
    values = drafted.draft.files["values.yaml"]
    for column in drafted.values:  # where a reviewer writes other words for stored values
        assert f"#   {column}: " in values
    assert yaml.safe_load(values)["values"] == []


def test_names_of_each_style_read_as_words(tmp_path: Path) -> None:
    entities = {}
    for style, tables in STYLES.items():
        db = _sqlite(tmp_path / f"{style}.db", tables)
        glossary = Drafted(f"sqlite:///{db}", tmp_path / style).glossary
        entities.update({e.table: e for e in glossary.entities})
    assert entities["cpty"].name == "counterparty" and entities["cpty"].synonyms == ("cpty",)
    assert entities["trd"].measure == "cpty_ccy_amt" and entities["trd"].label == "trd_id"
    assert entities["CUST_MSTR"].name == "customer"  # 'mstr' only says "table"
    assert entities["CUST_MSTR"].label == "CUST_NM"
    assert entities["ACCT_TXN"].name == "account transaction"
    assert "transaction" in entities["ACCT_TXN"].synonyms  # its last word, read by nothing else
    assert entities["Vessel"].name == "vessel" and entities["Vessel"].measure == "GrossTonnage"
    assert entities["Vessel"].list_columns == ("Name", "BuiltDate", "Flag", "GrossTonnage")


def test_the_period_column_rule(tmp_path: Path) -> None:
    db = _sqlite(tmp_path / "dates.db", [
        ('CREATE TABLE "one_date" (id INTEGER PRIMARY KEY, happened DATE)', []),
        ('CREATE TABLE "booked" (id INTEGER PRIMARY KEY, due_date DATE NOT NULL, '
         'created_at TIMESTAMP, booking_date DATE NOT NULL)', []),
        ('CREATE TABLE "nullable" (id INTEGER PRIMARY KEY, due_date DATE, trade_date DATE)', []),
        ('CREATE TABLE "no_dates" (id INTEGER PRIMARY KEY, amount DECIMAL(10, 2))', []),
    ])
    drafted = Drafted(f"sqlite:///{db}", tmp_path / "glossary")
    assert dict(drafted.glossary.period_columns) == {
        "one_date": "happened",      # its only date column
        "booked": "booking_date",    # NOT NULL, and named for when the row happened
        "nullable": "due_date",      # no NOT NULL one is: the first date column
    }
    rules = drafted.draft.files["rules.yaml"]
    assert "one_date: happened  # period column: the only date column" in rules
    assert "booked: booking_date  # period column: NOT NULL, its name says when" in rules
    assert "nullable: due_date  # period column: the first date column" in rules


def test_join_paths_only_where_the_keys_allow_two_paths(tmp_path: Path) -> None:
    db = _sqlite(tmp_path / "paths.db", [
        ('CREATE TABLE "counterparty" (id INTEGER PRIMARY KEY, name VARCHAR(20))',
         [(1, "ACME"), (2, "GLOBEX")]),
        ('CREATE TABLE "trade" (id INTEGER PRIMARY KEY, counterparty_id INTEGER NOT NULL '
         'REFERENCES "counterparty" (id), notional DECIMAL(18, 2))',
         [(i, 1 + i % 2, 10.0 * i) for i in range(10)]),
        ('CREATE TABLE "settlement" (id INTEGER PRIMARY KEY, trade_id INTEGER NOT NULL '
         'REFERENCES "trade" (id), counterparty_id INTEGER REFERENCES "counterparty" (id), '
         'amount DECIMAL(18, 2))', [(i, i, 1 + (i + 1) % 2, 5.0 * i) for i in range(10)]),
        ('CREATE TABLE "transfer" (id INTEGER PRIMARY KEY, from_id INTEGER REFERENCES '
         '"counterparty" (id), to_id INTEGER REFERENCES "counterparty" (id))', []),
    ])
    drafted = Drafted(f"sqlite:///{db}", tmp_path / "glossary")
    paths = drafted.glossary.join_paths
    assert [(p.from_table, p.to_table, p.via) for p in paths] == [
        ("settlement", "counterparty", ("settlement", "counterparty"))]
    rules = drafted.draft.files["rules.yaml"]
    assert "# settlement reaches counterparty by 2 paths; the others: settlement -> trade -> " \
           "counterparty" in rules
    assert "# transfer reaches counterparty by 2 foreign keys" in rules
    texts = [r.text for r in drafted.glossary.rules]
    assert "Each trade belongs to one counterparty (trade.counterparty_id -> counterparty.id)." \
        in texts
    assert "Each settlement may belong to one counterparty (settlement.counterparty_id -> " \
           "counterparty.id)." in texts
    # The drafted path is the one the engine takes anyway: the answer does not change.
    without = drafted.content(replace(drafted.glossary, join_paths=()))
    question = "total amount of settlements by counterparty name"
    assert drafted.ask(question).sql == drafted.ask(question, without).sql
    assert "settlement.counterparty_id" in (drafted.ask(question).sql or "")


@pytest.mark.parametrize("style", ["camel", "upper", "snake"])
def test_drafted_terms_change_no_answer_of_the_schema_and_entities(tmp_path: Path,
                                                                     style: str) -> None:
    db = _sqlite(tmp_path / "w.db", STYLES[style])
    drafted = Drafted(f"sqlite:///{db}", tmp_path / "glossary")
    assert drafted.glossary.terms
    with_terms = drafted.content()
    without = drafted.content(replace(drafted.glossary, terms=()))
    questions = [q for q, _ in ASKED[style]] + [
        "vessels by flag", "what is the flag of the Aurora", "voyages by status",
        "how many voyages per vessel", "average gross tonnage by flag", "ports by country",
        "trades by trade status", "how many trades by currency", "settlements by status",
        "customers by seg code", "total transaction amount by transaction type"]
    for question in questions:
        a, b = drafted.ask(question, with_terms), drafted.ask(question, without)
        assert (a.status, a.sql) == (b.status, b.sql), question


def test_a_word_two_columns_share_gets_no_term(tmp_path: Path) -> None:
    db = _sqlite(tmp_path / "shared.db", [
        ('CREATE TABLE "orders" (id INTEGER PRIMARY KEY, status VARCHAR(8), region VARCHAR(8))',
         [(1, "OPEN", "EU"), (2, "SHIPPED", "US")]),
        ('CREATE TABLE "invoices" (id INTEGER PRIMARY KEY, status VARCHAR(8), '
         'currency VARCHAR(3))', [(1, "PAID", "EUR"), (2, "DUE", "USD")]),
    ])
    drafted = Drafted(f"sqlite:///{db}", tmp_path / "glossary")
    names = {t.name: t.dimension for t in drafted.glossary.terms}
    assert names == {"region": "orders.region", "currency": "invoices.currency"}


def test_awkward_names_and_values_stay_valid_yaml(tmp_path: Path) -> None:
    db = _sqlite(tmp_path / "odd.db", [
        ('CREATE TABLE "Order Lines" ("no" INTEGER PRIMARY KEY, "yes" VARCHAR(10), '
         '"note: x" VARCHAR(10), "Amount #1" DECIMAL(10, 2))',
         [(1, "true", "a\nkind: rules # x", 1.5), (2, "null", "[b]", 2.5)]),
    ])
    drafted = Drafted(f"sqlite:///{db}", tmp_path / "glossary")
    entity = drafted.glossary.entities[0]
    assert entity.table == "Order Lines" and entity.name == "order line"
    assert entity.measure == "Amount #1"
    assert "kind: rules # x" not in drafted.draft.files["values.yaml"].replace("a kind", "")
    assert drafted.content().counts()["entities"] == 1
    again = draft_glossary(drafted.warehouse.schema(), drafted.values,
                           source=f"sqlite:///{tmp_path / 'odd.db'}")
    assert again == drafted.draft  # pure: the same schema and values, the same files


def test_a_folder_with_files_is_refused_unless_forced(tmp_path: Path) -> None:
    db = _sqlite(tmp_path / "w.db", CAMEL)
    drafted = Drafted(f"sqlite:///{db}", tmp_path / "glossary")
    (drafted.folder / "notes.md").write_text("mine")
    with pytest.raises(DraftRefused, match=r"already holds files .*--force"):
        write_draft(drafted.draft, drafted.folder)
    (drafted.folder / "terms.yaml").write_text("kind: terms\nterms: []\n")
    write_draft(drafted.draft, drafted.folder, force=True)
    assert (drafted.folder / "terms.yaml").read_text() == drafted.draft.files["terms.yaml"]
    assert (drafted.folder / "notes.md").read_text() == "mine"
    with pytest.raises(DraftRefused, match="is a file"):
        write_draft(drafted.draft, drafted.folder / "notes.md")


def test_review_sets_drafted_false_and_keeps_every_comment(tmp_path: Path) -> None:
    db = _sqlite(tmp_path / "w.db", UPPER)
    drafted = Drafted(f"sqlite:///{db}", tmp_path / "glossary")
    rules = drafted.folder / "rules.yaml"
    rules.write_text(rules.read_text() + "# checked by the platform team\n")
    before = rules.read_text().splitlines()
    assert mark_reviewed(drafted.folder, note="reviewed by ops.lead") == rules
    after = rules.read_text().splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert changed == [(before[4], "drafted: false  # reviewed by ops.lead")]
    assert not load_glossary(drafted.folder).drafted
    assert mark_reviewed(drafted.folder) is None  # nothing left to review


def test_postgres_warehouse_drafts_and_trains_the_same_way(postgres: PostgresServer,
                                                            tmp_path: Path) -> None:
    admin = f"host=127.0.0.1 port={postgres.port} user={postgres.superuser}"
    with psycopg.connect(f"{admin} dbname=postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS draft_snake")
        conn.execute("CREATE DATABASE draft_snake")
    with psycopg.connect(f"{admin} dbname=draft_snake") as conn:
        for ddl, rows in SNAKE:
            conn.execute(ddl)
            with conn.cursor() as cursor:
                cursor.executemany(f'INSERT INTO "{ddl.split(chr(34))[1]}" VALUES '
                                   f'({", ".join(["%s"] * len(rows[0]))})', rows)
    drafted = Drafted(postgres.url("draft_snake"), tmp_path / "glossary")
    lite = Drafted(f"sqlite:///{_sqlite(tmp_path / 's.db', SNAKE)}", tmp_path / "lite")
    # The same files but for the source named in their first line.
    assert {k: v.split("\n", 2)[2] for k, v in drafted.draft.files.items()} == {
        k: v.split("\n", 2)[2] for k, v in lite.draft.files.items()}
    for question, expected in ASKED["snake"]:
        answer = drafted.ask(question)
        assert answer.status == "answered" and expected in _unquoted(answer), question
    drafted.warehouse.dispose()

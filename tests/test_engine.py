"""The deterministic engine end to end: the development questions and our own, scored by
execution with the eval command; refusals; the same plans on PostgreSQL and in T-SQL."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import yaml
from engines import engine_for

from copilot.core.executor import Executor
from copilot.core.guard import Guard, GuardSchema
from copilot.core.warehouse import Warehouse
from copilot.engine.answer import Engine
from copilot.engine.scoring import same_result
from training.glossary import DEMO_GLOSSARY
from training.profiles import Pair

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "eval" / "otc_dev_questions.yaml"
OWN = Path(__file__).parent / "fixtures" / "engine_questions.yaml"
CONSTRUCTS = ROOT / "eval" / "otc_constructs.yaml"
AS_OF = date(2026, 11, 20)


def _eval(questions: Path, db: Path, out: Path) -> tuple[str, list[dict]]:
    done = subprocess.run(
        [sys.executable, "-m", "copilot", "eval", str(questions), "--db", f"sqlite:///{db}",
         "--as-of", "2026-11-20", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, [json.loads(line) for line in out.read_text().splitlines()]


@pytest.mark.parametrize("questions", [DEV, OWN], ids=["development", "our-own"])
def test_every_question_is_answered_right_or_refused(
    questions: Path, small_demo_db: Path, tmp_path: Path
) -> None:
    before = small_demo_db.read_bytes()
    printed, predictions = _eval(questions, small_demo_db, tmp_path / "pred.jsonl")
    total = len(predictions)
    assert f"accuracy: {total}/{total} (100.0%)" in printed, [
        p for p in predictions if not p.get("correct")]
    for prediction in predictions:
        assert set(prediction) >= {"id", "question", "status", "sql", "interpretation",
                                   "latency_ms"}
        if prediction["status"] == "answered":
            assert prediction["interpretation"].endswith(".")
            assert prediction["sql"].upper().startswith(("SELECT", "WITH"))
    assert small_demo_db.read_bytes() == before  # nothing destructive ran


def test_construct_set_answers_right_or_says_it_did_not_understand(
    small_demo_db: Path, tmp_path: Path
) -> None:
    """Our construct set (eval/otc_constructs.yaml, ~160 questions written apart from the
    engine): most are answered, and an answer that is given is right, with at most one
    exception the summary names."""
    printed, predictions = _eval(CONSTRUCTS, small_demo_db, tmp_path / "pred.jsonl")
    wrong = [p for p in predictions if p["status"] == "answered" and p.get("correct") is False]
    right = sum(1 for p in predictions if p.get("correct"))
    assert len(wrong) <= 4, wrong  # the few the summary lists; each was read and argued
    assert right >= 0.85 * len(predictions), printed
    assert "confidence   answered  right  accuracy" in printed
    assert "construct        questions  right  wrong  not answered" in printed


@pytest.fixture(scope="module")
def demo_engine(small_demo_db: Path) -> tuple[Engine, Guard, Warehouse]:
    return engine_for(small_demo_db, DEMO_GLOSSARY)


@pytest.mark.parametrize(
    ("question", "words"),
    [
        ("", "empty"),
        ("x" * 600, "longer than"),
        ("delete all cancelled trades", "only reads"),
        ("Please update the settlement status", "only reads"),
        ("fails by colour", "'colour'"),
        ("fails today'; DROP TABLE settlements; --", "only reads"),
        ("what will the EUR/USD rate be next week", "won't guess"),
    ],
)
def test_refusals_say_why(demo_engine: tuple, question: str, words: str) -> None:
    engine, guard, warehouse = demo_engine
    run = Executor(guard, warehouse)
    answer = engine.answer(question, AS_OF, run=run)
    assert answer.status == "refused" and answer.sql is None
    assert words in answer.interpretation


def test_unknown_word_comes_with_suggestions(demo_engine: tuple) -> None:
    engine, guard, warehouse = demo_engine
    run = Executor(guard, warehouse)
    answer = engine.answer("fails by conterparty", AS_OF, run=run)
    assert answer.status == "refused" and "counterparty" in answer.suggestions
    assert answer.unused_words == ("conterparty",)


def test_answer_carries_interpretation_chart_and_follow_ups(demo_engine: tuple) -> None:
    engine, guard, warehouse = demo_engine
    run = Executor(guard, warehouse)
    answer = engine.answer("Fails by counterparty this month", AS_OF, run=run)
    assert answer.status == "answered" and answer.source == "engine"
    assert answer.interpretation == (
        "Counting settlements with fail (status FAILED), value date 1-20 Nov 2026, grouped by "
        "counterparty, largest first.")
    assert answer.plan is not None and set(answer.plan.constructs) >= {"count", "grouping",
                                                                       "period"}
    assert answer.chart.kind == "bar" and answer.chart.x == "short_name"
    assert answer.follow_ups and answer.confidence > 0.5
    trend = engine.answer("daily count of fails this month", AS_OF, run=run)
    assert trend.chart.kind == "line"
    listing = engine.answer("show failed settlements with Goldman this month", AS_OF,
                            run=run)
    assert listing.chart.kind == "table" and "settlement_id" in listing.columns


def test_relative_periods_follow_the_as_of_date(demo_engine: tuple) -> None:
    engine, _, _ = demo_engine
    sql = engine.plan("fails this week", date(2026, 11, 23)).tree.sql()
    assert "'2026-11-23' AND '2026-11-23'" in sql


def test_same_plans_in_tsql_use_top_and_literal_dates(demo_engine: tuple) -> None:
    engine, guard, _ = demo_engine
    tsql = Guard(guard.schema, dialect="tsql", row_cap=5000)
    tree = engine.plan("Top 5 counterparties by failed settlement amount in the last 30 days",
                       AS_OF).tree
    verdict = tsql.check(tree, read="sqlite")
    assert verdict.allowed and verdict.sql.startswith("SELECT TOP 5 ")
    assert "'2026-10-22'" in verdict.sql and "LIMIT" not in verdict.sql


def test_postgres_gives_the_same_answers_as_sqlite(demo_engine: tuple, pg_demo_url: str) -> None:
    engine, guard, sqlite_warehouse = demo_engine
    pg = Warehouse(pg_demo_url, timeout_s=10)
    pg_guard = Guard(GuardSchema.from_warehouse(pg.schema()), dialect="postgres",
                     row_cap=100_000)
    questions = [*yaml.safe_load(DEV.read_text())["questions"],
                 *yaml.safe_load(OWN.read_text())["questions"]]
    compared = 0
    for item in questions:
        here = engine.answer(item["question"], AS_OF, run=Executor(guard, sqlite_warehouse))
        there = engine.answer(item["question"], AS_OF, run=Executor(pg_guard, pg))
        assert here.status == there.status, (item["id"], there.interpretation)
        if here.status == "answered":
            assert "LIMIT" in there.sql  # written for PostgreSQL by the guard
            assert same_result(there.rows, here.rows,
                               ordered=bool(item.get("order_matters"))), item["id"]
            compared += 1
    assert compared == 63  # 38 of the development set, 25 of ours
    pg.dispose()


def test_verified_pair_is_used_first_with_the_question_values(demo_engine: tuple) -> None:
    engine, guard, warehouse = demo_engine
    run = Executor(guard, warehouse)
    pair_sql = ("SELECT t.trade_id, t.notional_usd FROM trades t JOIN counterparties c "
                "ON t.counterparty_id = c.counterparty_id WHERE c.short_name = 'GOLDMAN' "
                "AND t.status = 'LIVE' ORDER BY t.notional_usd DESC LIMIT 3")
    content = replace(engine.content, pairs=(
        Pair("Biggest live trades with Goldman", pair_sql, "ops.lead", "2026-11-19T10:00:00Z"),))
    with_pairs = Engine(content)
    same = with_pairs.answer("biggest live trades with Goldman", AS_OF, run=run)
    assert same.source == "pair" and "verified by ops.lead" in same.interpretation
    other = with_pairs.answer("Biggest live trades with Barclays", AS_OF, run=run)
    assert other.source == "pair" and "'BARCLAYS'" in other.sql and "GOLDMAN" not in other.sql
    assert "BARCLAYS for GOLDMAN" in other.interpretation
    # A different question is not forced onto the pair.
    mine = with_pairs.answer("live trades with Goldman by product", AS_OF, run=run)
    assert mine.source == "engine"


def test_two_equally_likely_readings_are_asked_about(demo_engine: tuple) -> None:
    engine, guard, warehouse = demo_engine
    run = Executor(guard, warehouse)
    answer = engine.answer("how many in EUR today", AS_OF, run=run)
    assert answer.status == "clarify" and "which did you mean" in answer.interpretation
    assert answer.sql is None and 2 <= len(answer.suggestions) <= 4
    # Each option is a whole question that reads one way only, and answers.
    assert "how many in settlement currency EUR today" in answer.suggestions
    for option in answer.suggestions:
        picked = engine.answer(option, AS_OF, run=run)
        assert picked.status == "answered", option
    settled = engine.answer("how many settlements in EUR today", AS_OF, run=run)
    assert settled.status == "answered" and "settlements.currency = 'EUR'" in settled.sql


def test_with_no_and_with_more_than(demo_engine: tuple) -> None:
    engine, guard, warehouse = demo_engine
    run = Executor(guard, warehouse)
    absent = engine.answer("counterparties with no trades this month", AS_OF,
                           run=run)
    assert absent.status == "answered" and "NOT EXISTS" in absent.sql
    busy = engine.answer("desks with more than 3 fails this month", AS_OF, run=run)
    assert busy.status == "answered" and "HAVING COUNT(*) > 3" in busy.sql
    assert "keeping groups with count more than 3" in busy.interpretation


def test_eval_goes_on_past_a_gold_sql_the_guard_refuses(small_demo_db: Path,
                                                       tmp_path: Path) -> None:
    questions = tmp_path / "q.yaml"
    questions.write_text(yaml.safe_dump({"as_of": "2026-11-20", "questions": [
        {"id": "x1", "question": "how many live trades", "construct": "count",
         "sql": "DELETE FROM trades"},
        {"id": "x2", "question": "how many live trades", "construct": "count",
         "sql": "SELECT COUNT(*) FROM trades WHERE status = 'LIVE'"},
    ]}))
    printed, predictions = _eval(questions, small_demo_db, tmp_path / "pred.jsonl")
    assert predictions[0]["status"] == "error" and "refused" in predictions[0]["error"]
    assert predictions[1]["correct"] is True
    assert "accuracy: 1/1" in printed and "1 errors" in printed
    assert small_demo_db.exists()


def test_an_id_is_read_by_the_shape_of_its_key(demo_engine: tuple) -> None:
    engine, guard, warehouse = demo_engine
    run = Executor(guard, warehouse)
    trade = warehouse.execute(guard.check("SELECT trade_id FROM trades LIMIT 1").statement
                              ).rows[0][0]
    answer = engine.answer(f"cash flows for deal {trade.lower()}", AS_OF, run=run)
    assert answer.status == "answered" and f"'{trade}'" in answer.sql
    assert answer.rows and all(row[1] == trade for row in answer.rows)
    unknown = engine.answer("cash flows for deal ABC12345", AS_OF, run=run)
    assert unknown.status == "refused" and "'ABC12345'" in unknown.interpretation

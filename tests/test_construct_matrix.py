"""The construct matrix: every construct in several phrasings, each scored by execution
against one gold query, on the OTC demo and on a second warehouse of another ops domain
(payments operations, tests/payments/) trained only with its own glossary."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from engines import engine_for

from copilot.core.executor import Executor
from copilot.core.guard import Guard
from copilot.core.warehouse import Warehouse
from copilot.engine.answer import Engine
from copilot.engine.scoring import same_result
from training.glossary import DEMO_GLOSSARY

FIXTURES = Path(__file__).parent / "fixtures"
PAYMENTS = Path(__file__).parent / "payments"
AS_OF = date(2026, 11, 20)


def _cases(matrix: Path) -> list[tuple[str, str, str, bool]]:
    document = yaml.safe_load(matrix.read_text(encoding="utf-8"))
    return [(group["construct"], phrasing, group["sql"], bool(group.get("order_matters")))
            for group in document["constructs"] for phrasing in group["phrasings"]]


@pytest.fixture(scope="module")
def otc(small_demo_db: Path) -> tuple[Engine, Guard, Warehouse]:
    return engine_for(small_demo_db, DEMO_GLOSSARY)


@pytest.fixture(scope="module")
def payments(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, Guard, Warehouse]:
    from payments.warehouse import build_payments_warehouse

    db = build_payments_warehouse(tmp_path_factory.mktemp("payments") / "payments.db")
    return engine_for(db, PAYMENTS / "glossary")


def _check(setup: tuple[Engine, Guard, Warehouse], phrasing: str, sql: str,
           ordered: bool) -> None:
    engine, guard, warehouse = setup
    answer = engine.answer(phrasing, AS_OF, run=Executor(guard, warehouse))
    assert answer.status == "answered", answer.interpretation
    gold = warehouse.execute(Guard(guard.schema, dialect="sqlite", row_cap=1_000_000).check(
        sql, read="sqlite").statement)  # type: ignore[arg-type]
    assert same_result(answer.rows, gold.rows, ordered=ordered), (
        answer.interpretation, answer.sql)


@pytest.mark.parametrize(("construct", "phrasing", "sql", "ordered"),
                         _cases(FIXTURES / "construct_matrix_otc.yaml"))
def test_otc_construct(otc: tuple, construct: str, phrasing: str, sql: str,
                       ordered: bool) -> None:
    _check(otc, phrasing, sql, ordered)


def test_every_construct_has_four_phrasings_on_both_warehouses() -> None:
    for matrix in (FIXTURES / "construct_matrix_otc.yaml",
                   FIXTURES / "construct_matrix_payments.yaml"):
        groups = yaml.safe_load(matrix.read_text(encoding="utf-8"))["constructs"]
        assert len(groups) >= 15 and all(len(g["phrasings"]) >= 4 for g in groups), matrix


@pytest.mark.parametrize(("construct", "phrasing", "sql", "ordered"),
                         _cases(FIXTURES / "construct_matrix_payments.yaml"))
def test_payments_construct(payments: tuple, construct: str, phrasing: str, sql: str,
                            ordered: bool) -> None:
    _check(payments, phrasing, sql, ordered)


@pytest.mark.parametrize("domain", ["payments", "collateral"])
def test_a_second_domain_question_set_is_answered_right_or_refused(
        domain: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """tests/<domain>/questions.yaml, written apart from the engine from the warehouse and
    its glossary (payments operations; collateral and margin calls), through
    `python -m copilot eval --glossary`: an answer given is right."""
    import importlib
    import json
    import subprocess
    import sys

    folder = Path(__file__).parent / domain
    build = getattr(importlib.import_module(f"{domain}.warehouse"), f"build_{domain}_warehouse")
    work = tmp_path_factory.mktemp(f"{domain}-eval")
    db = build(work / f"{domain}.db")
    out = work / "pred.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "copilot", "eval", str(folder / "questions.yaml"),
         "--db", f"sqlite:///{db}", "--glossary", str(folder / "glossary"),
         "--out", str(out)],
        cwd=folder.parents[1], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    predictions = [json.loads(line) for line in out.read_text().splitlines()]
    wrong = [p for p in predictions if p["status"] == "answered" and p.get("correct") is False]
    assert len(wrong) <= 1, wrong
    assert sum(1 for p in predictions if p.get("correct")) >= 0.85 * len(predictions), done.stdout

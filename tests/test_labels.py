"""Column labels people read, the same in tables, charts and exports (copilot/engine/labels.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from engines import engine_for

from copilot.core.executor import Executor
from copilot.core.filenames import download_name
from copilot.engine.labels import column_labels

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 11, 20)


@pytest.fixture(scope="module")
def demo(small_demo_db: Path) -> tuple:
    return engine_for(small_demo_db, ROOT / "glossary" / "otc")


@pytest.mark.parametrize(("question", "labels"), [
    ("fails by counterparty this month", ("Counterparty", "Count")),
    ("total failed settlement amount by currency", ("Currency", "Total settlement amount (USD)")),
    ("which book has the most fails", ("Book", "Count")),
    ("average days to resolve exceptions by type",
     ("Exception type", "Average resolution time (days)")),
    ("unconfirmed trades by platform this month vs last month",
     ("Platform", "Count, this month", "Count, last month", "Change", "Change (%)")),
    ("daily count of fails this month", ("Day", "Count")),
])
def test_an_answer_names_its_columns_from_the_glossary(demo: tuple, question: str,
                                                      labels: tuple[str, ...]) -> None:
    engine, guard, warehouse = demo
    answer = engine.answer(question, AS_OF, run=Executor(guard, warehouse))
    assert answer.status == "answered", answer.interpretation
    assert answer.labels == labels and len(answer.labels) == len(answer.columns)


def test_a_list_names_each_column_and_its_unit(demo: tuple) -> None:
    engine, guard, warehouse = demo
    answer = engine.answer("list failed settlements today", AS_OF, run=Executor(guard, warehouse))
    assert answer.labels[0] == "Settlement id"  # an id stays an id, not the entity's name
    assert "Settlement amount (USD)" in answer.labels


def test_columns_with_no_plan_are_named_by_the_glossary_or_made_readable(demo: tuple) -> None:
    engine, _, _ = demo
    assert column_labels(("short_name", "amount_usd", "fee_bps", "n"), None, engine.content) == (
        "Counterparty", "Settlement amount (USD)", "Fee (bps)", "N")
    assert column_labels(("trade_date",), None, None) == ("Trade date",)


@pytest.mark.parametrize(("title", "expected"), [
    ("fails by counterparty", "fails-by-counterparty-2026-11-20.csv"),
    ("What are the unconfirmed trades by platform?",
     "unconfirmed-trades-by-platform-2026-11-20.csv"),
    ("", "answer-2026-11-20.csv"),
    ("../../etc/passwd; rm -rf /", "etc-passwd-rm-rf-2026-11-20.csv"),
])
def test_downloads_are_named_for_what_they_hold(title: str, expected: str) -> None:
    assert download_name(title, AS_OF, "csv") == expected

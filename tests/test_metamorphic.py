"""Metamorphic tests of the engine: paraphrases agree, and a meaning-bearing word inserted
into an answered question changes the answer or makes the engine refuse, never leaves it
the same (the word would have been silently ignored)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from engines import engine_for

from copilot.core.executor import Executor
from copilot.core.guard import Guard
from copilot.core.warehouse import Warehouse
from copilot.engine.answer import Engine
from copilot.engine.scoring import same_result
from training.glossary import DEMO_GLOSSARY

AS_OF = date(2026, 11, 20)

PARAPHRASES = [
    ["live trades with Goldman in EUR", "EUR live trades with Goldman",
     "trades with Goldman that are live in EUR", "Goldman's live EUR trades"],
    ["how many fails this week", "number of fails this week", "count of fails this week",
     "What's the number of fails this week?", "please tell me how many fails this week",
     "can you count the fails this week"],
    ["fails by desk", "fails per desk", "fails broken down by desk", "fails for each desk",
     "fails split by desk", "number of fails by desk"],
    ["open exceptions by priority", "open cases per priority", "Open Exceptions By Priority?",
     "could you show open exceptions by priority please"],
    ["pending settlements over 10m", "pending settlements above 10 million",
     "pending payments with an amount greater than 10mm", "pending settlements of more than $10m"],
    ["which counterparties have no trades this month",
     "counterparties without any trades this month", "what counterparties have no deals this month",
     "counterparties that haven't got trades this month"],
    ["are there any netting breaks with JP Morgan?", "any netting breaks with JP Morgan?",
     "is there any netting break with JP Morgan", "how many netting breaks with JP Morgan"],
    ["top 3 desks by live notional", "the 3 biggest desks by notional of live trades",
     "top three desks by live trade notional"],
]

BASES = [
    "fails by counterparty this month",
    "how many live trades",
    "pending settlements with HSBC",
    "open exceptions by analyst",
    "total notional of live trades",
    "breaks by platform",
    "netting breaks this week",
    "how many trades were booked last week",
]
# Words and phrases that carry meaning: each must be used by the plan, or refused.
INSERTIONS = ["most", "top 3", "total", "average", "not", "over 5m", "trend", "daily",
              "by desk", "Goldman", "pending", "largest", "without", "percentage", "vs",
              "except", "least", "sorted by", "monthly", "between 1m and 2m"]


@pytest.fixture(scope="module")
def engine(small_demo_db: Path) -> tuple[Engine, Guard, Warehouse]:
    return engine_for(small_demo_db, DEMO_GLOSSARY)


@pytest.mark.parametrize("family", PARAPHRASES, ids=[f[0] for f in PARAPHRASES])
def test_paraphrases_agree(engine: tuple, family: list[str]) -> None:
    eng, guard, warehouse = engine
    answers = [eng.answer(q, AS_OF, run=Executor(guard, warehouse)) for q in family]
    for question, answer in zip(family, answers, strict=True):
        assert answer.status == "answered", (question, answer.interpretation)
    first = answers[0]
    ordered = bool(first.plan and first.plan.limit)
    for question, answer in zip(family[1:], answers[1:], strict=True):
        assert same_result(answer.rows, first.rows, ordered=ordered), (
            question, answer.interpretation, first.interpretation)


def _positions(question: str, word: str) -> list[str]:
    words = question.split()
    return [" ".join([*words[:i], word, *words[i:]]) for i in range(len(words) + 1)]


@pytest.mark.parametrize("base", BASES)
def test_an_inserted_meaningful_word_is_never_ignored(engine: tuple, base: str) -> None:
    eng = engine[0]
    before = eng.plan(base, AS_OF)
    assert before.tree is not None, before.reason
    ignored = []
    for word in INSERTIONS:
        for question in _positions(base, word):
            after = eng.plan(question, AS_OF)
            if after.tree is not None and after.tree.sql() == before.tree.sql():
                ignored.append(question)
    assert not ignored, ignored


def test_distinct_attaches_or_refuses(engine: tuple) -> None:
    """'distinct' before the rows counted is their count already; elsewhere it must name
    what is counted once each, or the question is refused."""
    eng = engine[0]
    traders = eng.plan("how many distinct traders booked trades this week", AS_OF)
    assert traders.tree is not None and "COUNT(DISTINCT trades.trader)" in traders.tree.sql()
    assert eng.plan("fails by counterparty distinct", AS_OF).tree is None

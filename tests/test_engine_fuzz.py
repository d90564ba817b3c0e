"""Random questions built from the engine's own vocabulary never crash it, and whatever
it plans compiles to one statement the guard allows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from engines import engine_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copilot.core.guard import Guard
from copilot.engine.answer import Engine
from copilot.engine.grammar import CUES
from training.glossary import DEMO_GLOSSARY

AS_OF = date(2026, 11, 20)
WORDS = sorted({*CUES, "fails", "trades", "settlements", "Goldman", "EUR", "desk",
                "counterparty", "notional", "this week", "last month", "50m", "3", "pending",
                "live", "breaks", "exceptions", "amount", "TRD0000123", "the", "of", "with"})


@pytest.fixture(scope="module")
def setup(small_demo_db: Path) -> tuple[Engine, Guard]:
    engine, guard, _ = engine_for(small_demo_db, DEMO_GLOSSARY, row_cap=1000)
    return engine, guard


@settings(max_examples=300, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=7))
def test_random_questions_never_crash_and_plans_pass_the_guard(setup: tuple,
                                                               words: list[str]) -> None:
    engine, guard = setup
    result = engine.plan(" ".join(words), AS_OF)
    assert result.status in ("planned", "refused", "clarify")
    if result.status == "planned":
        assert result.tree is not None and guard.check(result.tree).allowed, result.tree.sql()
    else:
        assert result.reason

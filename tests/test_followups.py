"""Follow-up questions (issue 16): each edit kind in several phrasings, on the demo warehouse
and on the securities-lending warehouse with its drafted glossary, checked by behaviour:

- paraphrases agree: every phrasing of an edit gives the same SQL;
- the edit shows: the SQL differs from the previous question's, and the plan has the edit;
- metamorphic: the whole question a follow-up stands for, asked alone, gives the same SQL
  and rows (what a saved widget keeps is what was answered);
- a drill-down lists exactly the rows behind the group (their count is the group's count);
- a comparison's columns are the same question asked over each period alone;
- what it cannot read is refused or asked back, never answered from an older answer.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from engines import engine_for

from copilot.core.executor import Executor
from copilot.core.guard import Guard, GuardSchema
from copilot.core.warehouse import Warehouse
from copilot.engine.answer import Engine
from copilot.engine.followup import drill_question
from copilot.engine.plan import QueryPlan
from copilot.engine.scoring import same_result
from copilot.values import Answer, Conversation, ConversationError, Turn

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 11, 20)
Check = Callable[[QueryPlan], bool]


def _dims(plan: QueryPlan) -> list[str]:
    return [d.column.split(".")[-1] for d in plan.dimensions]


def _labels(plan: QueryPlan) -> str:
    return " | ".join(f.label for f in plan.filters)


# (edit kind, first question, phrasings, what the edited plan must show)
DEMO_CASES: list[tuple[str, str, list[str], Check]] = [
    ("group_replace", "unconfirmed trades by platform",
     ["then by book", "by book instead", "what about by book?", "split by book instead"],
     lambda p: _dims(p) == ["book_code"]),
    ("group_add", "unconfirmed trades by platform",
     ["by book too", "and also by book", "also split by book"],
     lambda p: _dims(p) == ["platform", "book_code"]),
    ("filter_add", "failed settlements by currency",
     ["only for HSBC", "just HSBC", "and for HSBC?", "restrict to HSBC"],
     lambda p: "HSBC" in _labels(p) and "not" not in _labels(p)),
    ("filter_replace", "failed settlements by currency for HSBC",
     ["what about Citi?", "now for Citi", "Citi instead"],
     lambda p: "CITI" in _labels(p) and "HSBC" not in _labels(p)),
    ("filter_exclude", "failed settlements by currency",
     ["excluding HSBC", "but not HSBC", "leave out HSBC"],
     lambda p: "not counterparty short name HSBC" in _labels(p)),
    ("filter_remove", "failed settlements by currency for HSBC",
     ["for any counterparty", "drop the HSBC filter", "remove HSBC"],
     lambda p: "HSBC" not in _labels(p) and "FAILED" in _labels(p)),
    ("period_replace", "failed settlements by currency last week",
     ["what about last month?", "same for last month", "last month instead"],
     lambda p: p.period is not None and p.period.start == date(2026, 10, 1)),
    ("period_shift", "failed settlements by currency last week",
     ["how about the week before?", "the previous week", "one week earlier"],
     lambda p: p.period is not None and (p.period.start, p.period.end) == (
         date(2026, 11, 2), date(2026, 11, 8))),
    ("measure_change", "failed settlements by currency",
     ["total amount instead", "what about the total amount?", "and the total amount?"],
     lambda p: p.measure.kind == "sum"),
    ("top_n", "failed settlements by currency",
     ["the top 3 of them", "just the top 3", "the 3 biggest", "limit to 3"],
     lambda p: p.limit == 3 and p.order[0].descending),
    ("bottom_n", "failed settlements by currency",
     ["bottom 2", "the 2 smallest", "only the lowest 2"],
     lambda p: p.limit == 2 and not p.order[0].descending),
    ("sort", "failed settlements by currency",
     ["smallest first", "in ascending order", "sort ascending"],
     lambda p: not p.order[0].descending),
    ("compare", "failed settlements by currency",
     ["compare with last month", "month on month", "versus the previous month",
      "how does that compare with last month"],
     lambda p: p.versus is not None and p.versus.names == ("this month", "last month")),
    ("drill", "failed settlements by currency",
     ["list the settlements behind the largest", "show the rows behind USD", "drill into USD"],
     lambda p: p.measure.kind == "list" and "currency USD" in _labels(p)),
]

SECLENDING_CASES: list[tuple[str, str, list[str], Check]] = [
    ("group_replace", "total loan amount by currency",
     ["then by desk", "by desk instead", "what about by desk?"],
     lambda p: _dims(p) != ["ccy"]),
    ("group_add", "total loan amount by currency",
     ["by desk too", "also split by desk", "and also by desk"],
     lambda p: len(p.dimensions) == 2),
    ("filter_add", "total loan amount by currency",
     ["only USD ones", "just for USD", "and for USD?"],
     lambda p: "USD" in _labels(p)),
    ("filter_replace", "security loans by currency for USD",
     ["what about EUR?", "now for EUR", "EUR instead"],
     lambda p: "EUR" in _labels(p) and "USD" not in _labels(p)),
    ("filter_exclude", "total loan amount by currency",
     ["excluding USD", "but not USD", "leave out USD"],
     lambda p: "not" in _labels(p)),
    ("filter_remove", "security loans by currency for USD",
     ["for any currency", "drop the USD filter", "remove USD"],
     lambda p: "USD" not in _labels(p)),
    ("period_replace", "total loan amount by currency traded last month",
     ["what about this month?", "same for this month", "this month instead"],
     lambda p: p.period is not None and p.period.start == date(2026, 11, 1)),
    ("period_shift", "total loan amount by currency traded last month",
     ["the month before", "the previous month", "a month earlier"],
     lambda p: p.period is not None and p.period.start == date(2026, 9, 1)),
    ("measure_change", "total loan amount by currency",
     ["what about the average fee bps?", "average fee bps instead", "and the average fee bps?"],
     lambda p: p.measure.kind == "avg"),
    ("top_n", "total loan amount by currency",
     ["the top 3 of them", "just the top 3", "the 3 biggest"], lambda p: p.limit == 3),
    ("sort", "total loan amount by currency",
     ["smallest first", "in ascending order", "sort ascending"],
     lambda p: not p.order[0].descending),
    ("compare", "total loan amount by currency",
     ["compare with last month", "month on month", "versus the previous month"],
     lambda p: p.versus is not None),
    ("drill", "total loan amount by currency",
     ["list the loans behind USD", "show the rows behind USD", "drill into USD"],
     lambda p: p.measure.kind == "list"),
]


Setup = tuple[Engine, Guard, Warehouse]


@pytest.fixture(scope="module")
def demo(small_demo_db: Path) -> Setup:
    return engine_for(small_demo_db, ROOT / "glossary" / "otc")


@pytest.fixture(scope="module")
def seclending(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    """The securities-lending warehouse with the glossary drafted from it, unedited."""
    sys.path.insert(0, str(ROOT / "tests"))
    from newschemas.seclending.warehouse import build

    work = tmp_path_factory.mktemp("seclending")
    db = build(work / "sl.db")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSCOPILOT_")}
    env["OPSCOPILOT_DATA_DIR"] = str(work / "data")
    drafted = subprocess.run(
        [sys.executable, "-m", "copilot", "glossary", "draft", "--db", f"sqlite:///{db}",
         "--out", str(work / "glossary")], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300)
    assert drafted.returncode == 0, drafted.stderr
    return engine_for(db, work / "glossary")


def _ask(setup: Setup, question: str, previous: Turn | None = None) -> Answer:
    engine, guard, warehouse = setup
    return engine.answer(question, AS_OF, run=Executor(guard, warehouse),
                         previous=previous)


def _first(setup: Setup, question: str) -> tuple[Answer, Turn]:
    answer = _ask(setup, question)
    assert answer.status == "answered", answer.interpretation
    turn = Conversation.new().after(answer).previous
    assert turn is not None
    return answer, turn


def _check_edit(setup: Setup, first: str, phrasings: list[str], shows: Check) -> None:
    base, turn = _first(setup, first)
    sqls = set()
    for phrasing in phrasings:
        answer = _ask(setup, phrasing, turn)
        assert answer.status == "answered", (phrasing, answer.interpretation)
        assert answer.plan is not None and shows(answer.plan), (phrasing, answer.interpretation)
        assert answer.sql != base.sql, phrasing
        assert answer.stands_for and answer.changes, phrasing
        alone = _ask(setup, answer.stands_for)
        assert (alone.sql, alone.rows) == (answer.sql, answer.rows), (phrasing,
                                                                      answer.stands_for)
        sqls.add(answer.sql)
    assert len(sqls) == 1, sqls  # paraphrases agree


@pytest.mark.parametrize(("kind", "first", "phrasings", "shows"), DEMO_CASES,
                         ids=[c[0] for c in DEMO_CASES])
def test_each_edit_kind_on_the_demo(demo: Setup, kind: str, first: str,
                                    phrasings: list[str], shows: Check) -> None:
    _check_edit(demo, first, phrasings, shows)


@pytest.mark.parametrize(("kind", "first", "phrasings", "shows"), SECLENDING_CASES,
                         ids=[c[0] for c in SECLENDING_CASES])
def test_each_edit_kind_on_a_second_warehouse(seclending: Setup, kind: str, first: str,
                                              phrasings: list[str], shows: Check) -> None:
    _check_edit(seclending, first, phrasings, shows)


def test_a_chart_asked_for_by_name_keeps_the_query(demo: Setup) -> None:
    base, turn = _first(demo, "failed settlements by currency")
    for phrasing in ("as a pie chart", "make it a pie", "pie chart please"):
        answer = _ask(demo, phrasing, turn)
        assert (answer.sql, answer.chart.kind) == (base.sql, "pie"), phrasing
        assert answer.stands_for == "failed settlements by currency as a pie chart"
        assert _ask(demo, answer.stands_for).chart.kind == "pie"
    # The chart stays with the conversation until another is asked for.
    pie = Conversation.new().after(base).after(_ask(demo, "as a pie chart", turn))
    narrowed = _ask(demo, "only for HSBC", pie.previous)
    assert narrowed.chart.kind == "pie" and "HSBC" in narrowed.stands_for


def test_a_three_turn_conversation_keeps_every_edit(demo: Setup) -> None:
    conversation = Conversation.new()
    for question, changed in (("unconfirmed trades by platform", ()),
                              ("then by book", ("now grouped by book",)),
                              ("only GBP ones", ("trade currency GBP only",))):
        answer = _ask(demo, question, conversation.previous)
        assert answer.status == "answered" and answer.changes == changed
        conversation = conversation.after(answer)
    assert answer.stands_for == "unconfirmed trades by book with GBP"
    assert "trades.currency = 'GBP'" in (answer.sql or "")
    assert "GROUP BY books.book_code" in (answer.sql or "")


def test_a_drill_lists_exactly_the_rows_behind_each_group(demo: Setup) -> None:
    grouped, turn = _first(demo, "failed settlements by currency")
    for row in range(3):
        question = drill_question(grouped, row)
        assert question is not None
        rows = _ask(demo, question, turn)
        assert rows.status == "answered" and rows.plan is not None
        assert rows.plan.measure.kind == "list"
        assert len(rows.rows) == grouped.rows[row][1], question
        currency = rows.columns.index("currency")
        assert {r[currency] for r in rows.rows} == {grouped.rows[row][0]}


def test_a_number_offers_its_rows(demo: Setup) -> None:
    number, turn = _first(demo, "how many failed settlements this week?")
    question = drill_question(number, None)
    assert question is not None
    rows = _ask(demo, question, turn)
    assert rows.status == "answered" and len(rows.rows) == number.rows[0][0]
    for phrasing in ("show the rows", "list them", "which ones are they?"):
        assert _ask(demo, phrasing, turn).sql == rows.sql, phrasing


def test_a_comparison_is_each_period_asked_alone(demo: Setup) -> None:
    both = _ask(demo, "failed settlements by currency this month vs last month")
    assert both.status == "answered" and both.chart.series, both.interpretation
    assert both.columns[1:] == ("count_this_month", "count_last_month", "change", "change_pct")
    this = dict(_ask(demo, "failed settlements by currency this month").rows)
    last = dict(_ask(demo, "failed settlements by currency last month").rows)
    for currency, now, then, change, percent in both.rows:
        assert (now, then) == (this.get(currency, 0), last.get(currency, 0))
        assert change == now - then
        assert percent == (pytest.approx(100.0 * change / then) if then else None)
    total = _ask(demo, "total amount of failed settlements last week vs 2 weeks ago")
    assert total.chart.kind == "number" and total.chart.series
    week = _ask(demo, "total amount of failed settlements last week").rows[0][0]
    before = _ask(demo, "total amount of failed settlements 2 weeks ago").rows[0][0]
    assert total.rows[0][:2] == (pytest.approx(week), pytest.approx(before))


def test_what_it_cannot_read_it_refuses_or_asks(demo: Setup) -> None:
    _, turn = _first(demo, "unconfirmed trades by platform")
    assert _ask(demo, "only the hairy ones", turn).status == "refused"
    # A word the edit would ignore makes it refuse, it is never dropped.
    assert _ask(demo, "then by book and hairiness", turn).status == "refused"
    # A follow-up that changes nothing is refused, not answered again as if it did; a sort
    # already in force is what is shown, and is answered.
    same = _ask(demo, "only the unconfirmed ones", turn)
    assert same.status == "refused" and "same" in same.interpretation
    assert _ask(demo, "largest first", turn).changes == ("as before",)
    # A bare value reads alone and as an edit: both are offered, and each option reads.
    unclear = _ask(demo, "HSBC", turn)
    assert unclear.status == "clarify" and len(unclear.suggestions) == 2
    edit, afresh = unclear.suggestions
    assert _ask(demo, edit, turn).stands_for == ""  # a whole question: stands alone
    assert "HSBC" in _labels(_ask(demo, edit, turn).plan)  # type: ignore[arg-type]
    assert _ask(demo, afresh, turn).plan.table == "counterparties"  # type: ignore[union-attr]
    # A question that names what it counts starts afresh.
    fresh = _ask(demo, "failed settlements by currency", turn)
    assert fresh.status == "answered" and not fresh.stands_for


def test_a_follow_up_of_a_refused_turn_edits_nothing_older(demo: Setup) -> None:
    base, _ = _first(demo, "unconfirmed trades by platform")
    conversation = Conversation.new().after(base)
    refused = _ask(demo, "hairy trades by platform", conversation.previous)
    conversation = conversation.after(refused)
    follow = _ask(demo, "then by book", conversation.previous)
    assert follow.status == "refused" and "no answer to refine" in follow.interpretation


def test_the_conversation_state_is_plain_json(demo: Setup) -> None:
    conversation = Conversation.new()
    for question in ("failed settlements by currency", "only for HSBC"):
        conversation = conversation.after(_ask(demo, question, conversation.previous))
    again = Conversation.from_json(conversation.to_json())
    assert again == conversation and again.turns[0].leader == ("USD",)
    for bad in ("[]", "{", '{"id": "x", "turns": [{"question": "q"}]}',
                '{"id": "x", "turns": [{"question": "q", "stands_for": "q", '
                '"status": "answered", "evil": 1}]}'):
        with pytest.raises(ConversationError):
            Conversation.from_json(bad)


def test_conversations_give_the_same_rows_on_postgresql(demo: Setup, pg_demo_url: str) -> None:
    """Every follow-up of the demo matrix, and comparisons with timestamps and dates, on the
    PostgreSQL copy of the demo: the same rows as on SQLite; T-SQL gets TOP, not LIMIT."""
    engine, guard, sqlite_warehouse = demo
    pg = Warehouse(pg_demo_url, timeout_s=10)
    pg_guard = Guard(GuardSchema.from_warehouse(pg.schema()), dialect="postgres",
                     row_cap=100_000)
    tsql = Guard(guard.schema, dialect="tsql", row_cap=5000)
    compared = 0
    for _, first, phrasings, _ in DEMO_CASES:
        turn = _first(demo, first)[1]
        for question in [*phrasings[:1], "unconfirmed trades by platform this week vs last week"]:
            here = engine.answer(question, AS_OF, run=Executor(guard, sqlite_warehouse),
                                 previous=turn)
            there = engine.answer(question, AS_OF, run=Executor(pg_guard, pg), previous=turn)
            assert here.status == there.status == "answered", (question, there.interpretation)
            assert same_result(there.rows, here.rows), question
            assert tsql.check(here.generated_sql or "", read="sqlite").allowed, question
            compared += 1
    assert compared == 2 * len(DEMO_CASES)
    pg.dispose()


# (first question, follow-up, whole question it must stand for): the closed-class words
# of follow-ups beyond the matrix above, one row each.
PHRASEBOOK = [
    ("failed settlements by currency for HSBC", "switch to Citi",
     "failed settlements by currency with Citi"),
    ("failed settlements by currency for HSBC", "swap HSBC for Citi",
     "failed settlements by currency with Citi"),
    ("failed settlements by currency for HSBC", "drop HSBC", "failed settlements by currency"),
    ("failed settlements by currency excluding HSBC", "include HSBC again",
     "failed settlements by currency"),
    ("open exceptions by type", "all statuses, not just open", "exceptions by type"),
    ("failed settlements by currency", "keep the two largest",
     "failed settlements by currency, top 2"),
    ("failed settlements by currency", "which three currencies have the most?",
     "failed settlements by currency, top 3"),
    ("failed settlements by currency", "cut it by desk rather than currency",
     "failed settlements by desk"),
    ("failed settlements by desk", "break each desk down by currency",
     "failed settlements by desk and currency"),
    ("failed settlements by currency", "put this month side by side with last month",
     "failed settlements by currency this month vs last month"),
    ("failed settlements by currency", "hmm ok, just for HSBC, thanks",
     "failed settlements by currency with HSBC"),
    ("failed settlements by currency", "ex USD", "failed settlements by currency excluding USD"),
]


@pytest.mark.parametrize(("first", "follow_up", "whole"), PHRASEBOOK,
                         ids=[p[1] for p in PHRASEBOOK])
def test_the_words_of_follow_ups(demo: Setup, first: str, follow_up: str, whole: str) -> None:
    _, turn = _first(demo, first)
    answer = _ask(demo, follow_up, turn)
    assert answer.status == "answered", answer.interpretation
    assert answer.sql == _ask(demo, whole).sql, answer.stands_for


def test_a_new_question_said_to_be_new_starts_afresh(demo: Setup) -> None:
    _, turn = _first(demo, "failed settlements by currency")
    for said in ("different question - how many disputed confirmations?",
                 "separately, how many disputed confirmations?"):
        answer = _ask(demo, said, turn)
        assert answer.stands_for == "" and answer.sql == _ask(
            demo, "how many disputed confirmations?").sql, said


# First questions of every shape: grouped, a number, a list, a series, with and without a
# period, a comparison. Each follow-up offered under the answer must answer as an edit.
IDEAS_DEMO = ["fails by counterparty this month", "how many live trades",
              "unconfirmed trades by platform", "settlement amount by currency last week",
              "show live trades", "daily count of fails this month",
              "open exceptions by priority", "failed settlements this month vs last month"]


@pytest.mark.parametrize("which", ["demo", "seclending"])
def test_every_follow_up_offered_answers_as_an_edit(request: pytest.FixtureRequest,
                                                    which: str) -> None:
    setup: Setup = request.getfixturevalue(which)
    firsts = IDEAS_DEMO if which == "demo" else [
        "total loan amount by currency", "security loans by currency for USD",
        "total loan amount by currency traded last month", "how many security loans"]
    offered = 0
    for first in firsts:
        answer, turn = _first(setup, first)
        assert len(answer.follow_ups) <= 3 and len(set(answer.follow_ups)) == len(
            answer.follow_ups), first
        for idea in answer.follow_ups:
            followed = _ask(setup, idea, turn)
            assert followed.status == "answered" and followed.stands_for, (first, idea)
            assert followed.sql != answer.sql and followed.changes, (first, idea)
            offered += 1
    assert offered >= 2 * len(firsts)  # most answers offer two or three


def test_follow_ups_offered_fit_the_answer(demo: Setup) -> None:
    grouped, _ = _first(demo, "fails by counterparty this month")
    assert grouped.follow_ups[0].startswith("then by ")
    assert "counterparty" not in grouped.follow_ups[0]  # not what it is grouped by already
    assert "compare with the month before" in grouped.follow_ups
    number, _ = _first(demo, "how many live trades")
    assert number.follow_ups[0].startswith("by ") and "this month" in number.follow_ups
    series, _ = _first(demo, "daily count of fails this month")
    assert not any(f.startswith(("by ", "then by ", "top ")) for f in series.follow_ups)

"""Dashboards below the page: the shared result cache, refresh intervals, number widgets,
edits through the guard and ordering, on a trained copy of the demo."""

from __future__ import annotations

import threading
from datetime import date, datetime
from pathlib import Path

import pytest

from copilot.settings import load_settings
from copilot.wiring import build_services, dashboards_of
from dashboards.cache import ResultCache
from dashboards.model import DashboardError, Refresh, Widget
from dashboards.service import DashboardService

AS_OF = date(2026, 11, 20)
FIVE_MINUTES = Refresh("minutes", 5)


@pytest.fixture
def boards(trained_data: Path) -> DashboardService:
    settings = load_settings({"OPSCOPILOT_DATA_DIR": str(trained_data),
                              "OPSCOPILOT_AS_OF": AS_OF.isoformat()},
                             env_file=trained_data / "no.env")
    return dashboards_of(build_services(settings))


def _saved(boards: DashboardService, question: str, chart: str = "bar",
           refresh: Refresh = FIVE_MINUTES) -> Widget:
    answer = boards.answering.ask(question, as_of=AS_OF)
    return boards.save_answer(answer, dashboard="Desk", title=question, chart=chart,
                              refresh=refresh, by="tester")


def _dashboard_answers(boards: DashboardService) -> int:
    return sum(1 for _, r in boards.recorder.log.records()
               if r.channel == "dashboard" and r.outcome == "answered")


def test_many_sessions_cost_one_query_per_interval(boards: DashboardService) -> None:
    widget = _saved(boards, "fails by counterparty this month")
    before = _dashboard_answers(boards)
    results = []

    def session() -> None:
        results.append(boards.refresh(widget, as_of=AS_OF, by="someone"))

    threads = [threading.Thread(target=session) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _dashboard_answers(boards) == before + 1
    assert sorted(hit for _, hit in results) == [False] + [True] * 19
    assert len({id(result) for result, _ in results}) == 1
    boards.refresh(widget, as_of=AS_OF, by="someone", force=True)  # "refresh now"
    assert _dashboard_answers(boards) == before + 2


def test_the_cache_expires_with_the_interval_and_on_a_new_version() -> None:
    now = [0.0]
    cache: ResultCache[int] = ResultCache(clock=lambda: now[0])
    calls = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get("w", "v1", lambda _: 60, compute) == (1, False)
    now[0] = 59
    assert cache.get("w", "v1", lambda _: 60, compute) == (1, True)
    now[0] = 61
    assert cache.get("w", "v1", lambda _: 60, compute) == (2, False)
    assert cache.get("w", "v2", lambda _: 60, compute) == (3, False)  # edited widget
    assert cache.get("m", "v1", lambda _: None, compute) == (4, False)
    now[0] = 10**9
    assert cache.get("m", "v1", lambda _: None, compute) == (4, True)  # manual: until forced


def test_refresh_intervals() -> None:
    assert Refresh("minutes", 15).ttl_seconds(datetime(2026, 11, 20, 9, 0)) == 900
    assert Refresh("daily", at="07:00").ttl_seconds(datetime(2026, 11, 20, 6, 30)) == 1800
    assert Refresh("daily", at="07:00").ttl_seconds(datetime(2026, 11, 20, 7, 30)) == 23.5 * 3600
    assert Refresh().ttl_seconds(datetime(2026, 11, 20)) is None
    with pytest.raises(DashboardError, match="HH:MM"):
        Refresh("daily", at="7am")
    with pytest.raises(DashboardError, match="between 1 and 1440"):
        Refresh("minutes", 0)


def test_a_number_widget_shows_its_change_since_the_previous_refresh(
        boards: DashboardService) -> None:
    widget = _saved(boards, "how many netting breaks this week", chart="number")
    first, _ = boards.refresh(widget, as_of=AS_OF, by="t")
    assert first.value is not None and first.previous is None
    second, _ = boards.refresh(widget, as_of=date(2026, 11, 27), by="t")
    assert second.previous == first.value and second.covers == "value date 23-27 Nov 2026"


def test_edited_sql_passes_the_guard_and_is_then_fixed(boards: DashboardService) -> None:
    widget = _saved(boards, "fails by counterparty this month")
    with pytest.raises(DashboardError, match="guard refused"):
        boards.edit_widget(widget, title="x", chart="bar", refresh=widget.refresh,
                           sql="DROP TABLE trades", by="tester")
    assert boards.store.widget(widget.id).sql == widget.sql
    edited = boards.edit_widget(widget, title="All fails", chart="table",
                                refresh=Refresh("daily", at="06:00"),
                                sql="SELECT status, COUNT(*) FROM settlements GROUP BY status",
                                by="tester")
    assert not edited.relative and boards.store.widget(widget.id).title == "All fails"
    result, _ = boards.refresh(edited, as_of=AS_OF, by="tester")
    assert result.covers == "the dates written in its SQL" and len(result.rows) >= 2


def test_widgets_reorder_and_delete(boards: DashboardService) -> None:
    first = _saved(boards, "fails today")
    second = _saved(boards, "open exceptions by priority")
    third = _saved(boards, "live trades by desk")
    boards.store.move_widget(third.id, -1)
    board = boards.store.dashboard("Desk")
    assert [w.id for w in boards.store.widgets(board.id)] == [first.id, third.id, second.id]
    boards.delete_widget(third, by="tester")
    assert [w.id for w in boards.store.widgets(board.id)] == [first.id, second.id]


def test_only_answered_questions_become_widgets(boards: DashboardService) -> None:
    refused = boards.answering.ask("delete all trades", as_of=AS_OF)
    with pytest.raises(DashboardError, match="Only an answered"):
        boards.save_answer(refused, dashboard="Desk", title="x", chart="table",
                           refresh=Refresh(), by="t")


def test_a_widget_result_names_its_columns_as_the_ask_page_does(
        boards: DashboardService) -> None:
    """The labels an answer carries reach the dashboard; a widget whose question is no
    longer read (its saved SQL runs) is labelled from the glossary by column name."""
    widget = _saved(boards, "fails by counterparty this month")
    result, _ = boards.refresh(widget, as_of=AS_OF, by="t")
    assert result.columns == ("short_name", "count") and result.labels == ("Counterparty", "Count")
    fixed = boards.answering.run_sql("SELECT short_name, country FROM counterparties",
                                     user="tester")
    assert fixed.status == "answered"
    sql_widget = boards.save_answer(fixed, dashboard="Desk", title="cpty", chart="table",
                                    refresh=FIVE_MINUTES, by="tester")
    result, _ = boards.refresh(sql_widget, as_of=AS_OF, by="tester")
    assert result.labels == ("Counterparty", "Country")

"""The Dashboards page and "Save as widget" through Streamlit's AppTest, on a trained copy
of the demo: the seeded "Ops morning check", saving, failing widgets, relative periods,
export and import."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from copilot.core.audit import AuditLog
from copilot.core.filenames import download_name
from copilot.settings import load_settings
from copilot.wiring import build_services, dashboards_of
from dashboards.model import Widget
from dashboards.seed import MORNING_CHECK, MORNING_CHECK_WIDGETS
from dashboards.service import DashboardService
from tests.downloads import record_downloads


def _dashboards_page() -> None:
    from app_pages import dashboards

    dashboards.render()


def _ask_page() -> None:
    from app_pages import ask

    ask.render()


def _run(page) -> AppTest:
    app = AppTest.from_function(page, default_timeout=90)
    app.run()
    assert not app.exception, app.exception
    return app


def _boards(page_env: Path) -> DashboardService:
    """The same state database the page uses, opened by the test."""
    settings = load_settings(env_file=page_env / "no.env")
    return dashboards_of(build_services(settings))


def _texts(app: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "caption", "error", "info",
                                               "success") for e in getattr(app, kind))


def _audit(page_env: Path) -> list:
    return [r for _, r in AuditLog(f"sqlite:///{page_env / 'audit.db'}").records()]


def test_the_seeded_morning_check_renders_every_widget(page_env: Path) -> None:
    app = _run(_dashboards_page)
    assert app.selectbox(key="dashboard_pick").value == MORNING_CHECK
    text = _texts(app)
    for title, *_ in MORNING_CHECK_WIDGETS:
        assert f"**{title}**" in text
    assert not app.error
    assert "value date 20 Nov 2026" in text  # fails today
    assert "value date 16-20 Nov 2026" in text  # netting breaks this week
    assert len(app.get("plotly_chart")) == 4 and len(app.get("metric")) == 1
    refreshes = [r for r in _audit(page_env) if r.channel == "dashboard"
                 and r.outcome == "answered"]
    assert len(refreshes) >= 12  # 6 answers when seeding, 6 refreshes on the page


def test_downloads_are_named_for_what_they_hold(
        page_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    downloads = record_downloads(monkeypatch)
    _run(_dashboards_page)
    widgets = _boards(page_env).store.widgets(
        _boards(page_env).store.dashboard(MORNING_CHECK).id)
    # Each widget's CSV: its title and the date it answers for; "Fails today" has no rows on
    # the demo's date, so nothing to download.
    assert f"csv_{widgets[0].id}" not in downloads
    assert downloads[f"csv_{widgets[1].id}"] == "unconfirmed-trades-by-age-2026-11-20.csv"
    assert {downloads[f"csv_{w.id}"] for w in widgets[1:]} == {
        download_name(w.title, date(2026, 11, 20), "csv") for w in widgets[1:]}
    # The export is the dashboard's definition, good for any day: undated.
    assert downloads["export_dashboard"] == "ops-morning-check.json"


def test_an_empty_value_shows_as_none_in_a_table(page_env: Path) -> None:
    _run(_dashboards_page)
    boards = _boards(page_env)
    board = boards.store.dashboard(MORNING_CHECK)
    boards.store.add_widget(Widget(
        board.id, "Trades by nothing", "",
        "SELECT NULL AS book, COUNT(*) AS trades FROM trades", relative=False, chart="table"))
    table = _run(_dashboards_page).dataframe[0].value
    # Labelled as everywhere ("Book", "Trades"), the empty group shown as "(none)".
    assert list(table["Book"]) == ["(none)"] and table["Trades"][0] > 0


def test_relative_periods_are_re_resolved_against_a_later_as_of(
        page_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _run(_dashboards_page)  # seeded as of 2026-11-20
    monkeypatch.setenv("OPSCOPILOT_AS_OF", "2026-11-27")
    text = _texts(_run(_dashboards_page))
    assert "value date 23-27 Nov 2026" in text and "value date 27 Nov 2026" in text
    assert "16-20 Nov 2026" not in text


def test_save_an_answer_as_a_widget_on_a_new_dashboard(page_env: Path) -> None:
    app = _run(_ask_page)
    app.chat_input(key="ask_input").set_value("Fails by counterparty this month").run()
    app.session_state["save_0"] = True  # "Save as widget" opened: drawn only when open
    app.run()
    app.selectbox(key="save_0_board").set_value("New dashboard…").run()
    app.text_input(key="save_0_new").set_value("Desk A")  # asked for once "new" is picked
    app.text_input(key="save_0_title").set_value("Fails this month")
    app.selectbox(key="save_0_chart").set_value("pie")
    app.button(key="save_0_go").click().run()
    assert not app.exception, app.exception
    assert "Saved 'Fails this month' to 'Desk A'; it re-asks the question" in _texts(app)

    boards = _boards(page_env)
    desk = boards.store.dashboard("Desk A")
    [widget] = boards.store.widgets(desk.id)
    assert widget.relative and widget.chart == "pie" and widget.refresh.label == "every 15 min"
    assert widget.profile_version == "demo-1" and "JOIN counterparties" in widget.sql

    page = _run(_dashboards_page)
    page.selectbox(key="dashboard_pick").set_value("Desk A").run()
    assert "**Fails this month**" in _texts(page) and len(page.get("plotly_chart")) == 1


def test_a_failing_widget_shows_its_error_beside_working_ones(page_env: Path) -> None:
    _run(_dashboards_page)
    boards = _boards(page_env)
    board = boards.store.dashboard(MORNING_CHECK)
    # As if the warehouse lost a column after the widget was saved.
    boards.store.add_widget(Widget(board.id, "Broken widget", "", "SELECT gone FROM trades",
                                   relative=False, chart="table"))
    app = _run(_dashboards_page)
    assert len(app.error) == 1 and "gone" in app.error[0].value
    assert len(app.get("plotly_chart")) == 4  # the others still draw


def test_export_and_import_round_trip(page_env: Path) -> None:
    _run(_dashboards_page)
    boards = _boards(page_env)
    exported = boards.export(boards.store.dashboard(MORNING_CHECK))
    app = _run(_dashboards_page)
    app.text_area(key="import_text").set_value(exported)
    app.text_input(key="import_name").set_value("Morning check (copy)")
    app.button(key="import_dashboard").click().run()
    assert not app.exception, app.exception
    assert app.selectbox(key="dashboard_pick").value == "Morning check (copy)"
    original = boards.store.widgets(boards.store.dashboard(MORNING_CHECK).id)
    copy = boards.store.widgets(boards.store.dashboard("Morning check (copy)").id)
    assert [(w.title, w.sql, w.chart, w.refresh, w.relative) for w in copy] == [
        (w.title, w.sql, w.chart, w.refresh, w.relative) for w in original]
    assert "Morning check (copy)" in json.loads(boards.export(
        boards.store.dashboard("Morning check (copy)")))["name"]


def test_import_of_destructive_sql_is_refused_and_changes_nothing(page_env: Path) -> None:
    _run(_dashboards_page)
    hostile = json.dumps({"format": "otc-ops-copilot/dashboard", "version": 1, "name": "Evil",
                          "widgets": [
                              {"title": "ok", "question": "", "sql": "SELECT COUNT(*) FROM trades",
                               "relative": False, "chart": "number"},
                              {"title": "wipe", "question": "", "sql": "DELETE FROM trades",
                               "relative": False, "chart": "table"}]})
    app = _run(_dashboards_page)
    app.text_area(key="import_text").set_value(hostile)
    app.button(key="import_dashboard").click().run()
    assert "Widget 2 ('wipe') was refused by the SQL guard" in app.error[0].value
    assert "Nothing was imported" in app.error[0].value
    assert _boards(page_env).store.dashboard("Evil") is None
    assert _audit(page_env)[-1].outcome == "blocked"


def test_edit_a_widget_on_the_page_and_refuse_destructive_sql(page_env: Path) -> None:
    app = _run(_dashboards_page)
    boards = _boards(page_env)
    widget = boards.store.widgets(boards.store.dashboard(MORNING_CHECK).id)[0]
    app.toggle(key=f"editing_{widget.id}").set_value(True).run()
    app.text_area(key=f"e{widget.id}_sql").set_value("DELETE FROM settlements")
    app.button(key=f"FormSubmitter:edit_{widget.id}-Save").click().run()
    assert "guard refused" in app.error[0].value
    assert boards.store.widget(widget.id).sql == widget.sql
    app.text_area(key=f"e{widget.id}_sql").set_value(widget.sql)
    app.text_input(key=f"e{widget.id}_title").set_value("Fails today")
    app.button(key=f"FormSubmitter:edit_{widget.id}-Save").click().run()
    assert not app.exception, app.exception
    saved = boards.store.widget(widget.id)
    assert saved.title == "Fails today" and saved.relative  # same SQL: still re-asked
    assert "**Fails today**" in _texts(app)

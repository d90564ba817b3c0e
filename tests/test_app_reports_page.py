"""The Reports page through Streamlit's AppTest on a trained copy of the demo: create a
report from a dashboard widget, see its next run, run it now, pause it, read the run log;
a destructive SQL is refused."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from reports.scheduler import _RUNNING


def _reports_page() -> None:
    from app_pages import reports

    reports.render()


def _run() -> AppTest:
    app = AppTest.from_function(_reports_page, default_timeout=90)
    app.run()
    assert not app.exception, app.exception
    return app


def _stop_schedulers() -> None:
    for scheduler in list(_RUNNING.values()):
        scheduler.shutdown()


def test_create_from_a_widget_run_now_pause_and_read_the_log(page_env: Path) -> None:
    try:
        app = _run()
        assert "No reports yet" in app.info[0].value
        app.text_input(key="new_report_name").set_value("Morning fails")
        app.selectbox(key="new_report_source").set_value(
            "widget: Ops morning check / Fails today by counterparty")
        app.multiselect(key="new_report_formats").set_value(["csv", "pdf"])
        app.text_input(key="new_report_folders").set_value(str(page_env / "share"))
        app.text_input(key="new_report_tz").set_value("Europe/London")
        app.button(key="FormSubmitter:new_report-Save").click().run()
        assert not app.exception, app.exception
        assert "Saved 'Morning fails': daily at 07:00 Europe/London." in app.success[0].value
        table = app.dataframe[0].value
        assert list(table["report"]) == ["Morning fails"] and table["next run"][0] is not None

        app.button(key="report_run").click().run()
        assert app.success[0].value.startswith("success:")
        assert sorted(p.suffix for p in (page_env / "share").iterdir()) == [".csv", ".pdf"]
        log = app.dataframe[1].value
        assert list(log["state"]) == ["success"] and list(log["trigger"]) == ["manual"]

        app.button(key="report_pause").click().run()
        table = _run().dataframe[0].value
        assert bool(table["paused"][0]) and table["next run"].isna()[0]
    finally:
        _stop_schedulers()


def test_a_destructive_report_sql_is_refused(page_env: Path) -> None:
    try:
        app = _run()
        app.text_input(key="new_report_name").set_value("Wipe")
        app.text_area(key="new_report_sql").set_value("DELETE FROM trades")
        app.button(key="FormSubmitter:new_report-Save").click().run()
        assert "guard refused" in app.error[0].value
        assert "No reports yet" in _run().info[0].value
    finally:
        _stop_schedulers()

"""The Reports page through Streamlit's AppTest on a trained copy of the demo: the form shows
only the fields of the chosen source, frequency and alert; create a report from a dashboard
widget, from a typed question or monthly, see its next run, run it now, pause it, read the
run log and download a run's files under names that say what they hold; a destructive SQL
is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_pages.report_form import FREQUENCIES
from copilot.settings import load_settings
from copilot.wiring import build_services
from reports.channels.registry import CHANNELS
from reports.scheduler import _RUNNING
from reports.store import ReportStore
from tests.downloads import record_downloads

WIDGET = "Ops morning check / Fails today by counterparty"
# The key of every field that comes and goes with a choice, by what shows it.
SOURCE_FIELDS = {"question": {"new_report_question"}, "widget": {"new_report_widget"},
                 "answer": {"new_report_answer"}, "sql": {"new_report_sql"}}
EVERY_SOURCE = set().union(*SOURCE_FIELDS.values())
SCHEDULE_FIELDS = {"daily": {"new_report_at", "new_report_weekdays"},
                   "weekly": {"new_report_days", "new_report_at"},
                   "monthly": {"new_report_day", "new_report_at"},
                   "cron": {"new_report_cron"}}
ALERT_FIELDS = {"none": set(),
                "threshold": {"new_report_op", "new_report_value", "new_report_grace"},
                "anomaly": {"new_report_k", "new_report_trailing", "new_report_grace"}}


def _reports_page() -> None:
    from app_pages import reports

    reports.render()


def _run() -> AppTest:
    app = AppTest.from_function(_reports_page, default_timeout=90)
    app.run()
    assert not app.exception, app.exception
    return app


def _shown(app: AppTest, keys: set[str]) -> set[str]:
    found = set()
    for key in keys:
        try:
            app.get_by_key(key)
        except KeyError:
            continue
        found.add(key)
    return found


@pytest.fixture(autouse=True)
def _stop_schedulers():
    yield
    for scheduler in list(_RUNNING.values()):
        scheduler.shutdown()


def test_the_form_shows_only_the_fields_that_apply(page_env: Path) -> None:
    app = _run()
    every_schedule = set().union(*SCHEDULE_FIELDS.values())
    every_alert = set().union(*ALERT_FIELDS.values())
    # As it opens: from a question, daily, no alert.
    assert app.segmented_control(key="new_report_source").value == "question"
    assert app.segmented_control(key="new_report_kind").value == "daily"
    assert _shown(app, EVERY_SOURCE) == SOURCE_FIELDS["question"]
    assert _shown(app, every_schedule) == SCHEDULE_FIELDS["daily"]
    assert _shown(app, every_alert) == set()
    assert "new_report_tz" in _shown(app, {"new_report_tz"})  # every schedule has a zone
    # No answer in this session yet: that source is not offered.
    assert app.segmented_control(key="new_report_source").options == [
        "A question", "A dashboard widget", "SQL"]

    for source in ("question", "widget", "sql"):
        app.segmented_control(key="new_report_source").set_value(source).run()
        assert not app.exception, app.exception
        assert _shown(app, EVERY_SOURCE) == SOURCE_FIELDS[source], source
    for kind in FREQUENCIES:
        app.segmented_control(key="new_report_kind").set_value(kind).run()
        assert _shown(app, every_schedule) == SCHEDULE_FIELDS[kind], kind
    for kind, fields in ALERT_FIELDS.items():
        app.segmented_control(key="new_report_alert").set_value(kind).run()
        assert _shown(app, every_alert) == fields, kind


def test_the_form_has_one_destinations_field_per_registered_channel(page_env: Path) -> None:
    app = _run()
    fields = {f"new_report_to_{name}": kind.label for name, kind in CHANNELS.items()}
    assert _shown(app, set(fields)) == set(fields)
    assert {key: app.text_input(key=key).label for key in fields} == fields

    # A destination is checked by its channel when the report is saved, naming no secret.
    app.text_input(key="new_report_name").set_value("Tickets")
    app.segmented_control(key="new_report_source").set_value("sql").run()
    app.text_area(key="new_report_sql").set_value("SELECT COUNT(*) FROM trades")
    app.text_input(key="new_report_to_json_webhook").set_value(
        "http://tickets.bank.example/hooks/s3cr3t")
    app.button(key="new_report_save").click().run()
    shown = app.error[0].value.replace("\u2060", "")  # the page keeps "://" from linking
    assert "A JSON webhook must be an https:// URL" in shown and "s3cr3t" not in shown
    app.text_input(key="new_report_to_json_webhook").set_value(
        "https://tickets.bank.example/hooks/s3cr3t, https://chatops.bank.example/in")
    app.button(key="new_report_save").click().run()
    assert not app.exception, app.exception
    [saved] = ReportStore(load_settings().state.url).templates()
    assert saved.recipients.destinations == (("json_webhook", (
        "https://tickets.bank.example/hooks/s3cr3t", "https://chatops.bank.example/in")),)
    # Opened to edit, the field shows what was saved.
    assert app.text_input(key=f"edit_{saved.id}_to_json_webhook").value == (
        "https://tickets.bank.example/hooks/s3cr3t, https://chatops.bank.example/in")


def test_create_from_a_widget_run_now_pause_and_read_the_log(
        page_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    downloads = record_downloads(monkeypatch)
    app = _run()
    assert "No reports yet" in app.info[0].value
    app.text_input(key="new_report_name").set_value("Morning fails")
    app.segmented_control(key="new_report_source").set_value("widget").run()
    app.selectbox(key="new_report_widget").set_value(WIDGET)
    app.multiselect(key="new_report_formats").set_value(["csv", "pdf"])
    app.text_input(key="new_report_to_folder").set_value(str(page_env / "share"))
    app.text_input(key="new_report_tz").set_value("Europe/London")
    app.button(key="new_report_save").click().run()
    assert not app.exception, app.exception
    assert "Saved 'Morning fails': daily at 07:00 Europe/London." in app.success[0].value
    table = app.dataframe[0].value
    assert list(table["report"]) == ["Morning fails"] and table["next run"][0] is not None
    assert app.text_input(key="new_report_name").value == ""  # ready for the next one

    app.button(key="report_run").click().run()
    assert app.success[0].value.startswith("success:")
    assert sorted(p.suffix for p in (page_env / "share").iterdir()) == [".csv", ".pdf"]
    log = app.dataframe[1].value
    assert list(log["state"]) == ["success"] and list(log["trigger"]) == ["manual"]
    # The run's files download under the report's name and the date it answered for.
    assert sorted(v for k, v in downloads.items() if k.startswith("file_")) == [
        "morning-fails-2026-11-20.csv", "morning-fails-2026-11-20.pdf"]

    app.button(key="report_pause").click().run()
    table = _run().dataframe[0].value
    assert bool(table["paused"][0]) and table["next run"].isna()[0]


def test_a_monthly_report_from_a_question(page_env: Path) -> None:
    app = _run()
    app.text_input(key="new_report_name").set_value("Month-end fails")
    app.text_input(key="new_report_question").set_value("fails by counterparty this month")
    app.segmented_control(key="new_report_kind").set_value("monthly").run()
    app.number_input(key="new_report_day").set_value(3)
    app.button(key="new_report_save").click().run()
    assert not app.exception, app.exception
    assert "Saved 'Month-end fails': monthly on day 3 at 07:00 UTC." in app.success[0].value
    assert app.dataframe[0].value["schedule"][0] == "monthly on day 3 at 07:00 UTC"

    # Opened to edit, it reads as monthly again, on the same day.
    assert app.segmented_control(key="edit_1_kind").value == "monthly"
    assert app.number_input(key="edit_1_day").value == 3
    assert "Re-asks" in " ".join(c.value for c in app.caption)  # its dates move with the day


def test_an_answer_of_this_session_becomes_a_report(page_env: Path) -> None:
    settings = load_settings()
    answer = build_services(settings).answering.ask("fails by counterparty this month")
    app = AppTest.from_function(_reports_page, default_timeout=90)
    app.session_state["ask_history"] = [answer]  # as the Ask page keeps them
    app.run()
    app.segmented_control(key="new_report_source").set_value("answer").run()
    assert _shown(app, EVERY_SOURCE) == SOURCE_FIELDS["answer"]
    assert app.selectbox(key="new_report_answer").value == "fails by counterparty this month"
    app.text_input(key="new_report_name").set_value("Fails this month")
    app.button(key="new_report_save").click().run()
    assert not app.exception, app.exception
    [saved] = ReportStore(settings.state.url).templates()
    assert saved.question == "fails by counterparty this month" and saved.relative
    assert saved.sql == answer.generated_sql


def test_a_question_that_is_not_understood_is_not_saved(page_env: Path) -> None:
    app = _run()
    app.text_input(key="new_report_name").set_value("Colours")
    app.text_input(key="new_report_question").set_value("fails by colour")
    app.button(key="new_report_save").click().run()
    assert "could not be answered" in app.error[0].value
    assert "No reports yet" in _run().info[0].value


def test_a_destructive_report_sql_is_refused(page_env: Path) -> None:
    app = _run()
    app.text_input(key="new_report_name").set_value("Wipe")
    app.segmented_control(key="new_report_source").set_value("sql").run()
    app.text_area(key="new_report_sql").set_value("DELETE FROM trades")
    app.button(key="new_report_save").click().run()
    assert "guard refused" in app.error[0].value
    assert "No reports yet" in _run().info[0].value

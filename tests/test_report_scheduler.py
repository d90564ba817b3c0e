"""The report scheduler with a real APScheduler, a SQLAlchemy job store in the state
database and a trained copy of the demo: restarts, missed runs, double starts, triggers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from copilot.settings import load_settings
from copilot.wiring import build_services, report_runner
from reports.model import ReportError, ReportTemplate, Schedule
from reports.runner import ReportRunner
from reports.scheduler import ReportScheduler
from reports.triggers import trigger_for

LONDON = ZoneInfo("Europe/London")


def _next(schedule: Schedule, after: datetime) -> datetime:
    return trigger_for(schedule).get_next_fire_time(None, after)


def test_daily_at_seven_london_follows_the_clock_change() -> None:
    daily = Schedule("daily", at="07:00", timezone="Europe/London")
    before = _next(daily, datetime(2026, 10, 23, 12, tzinfo=UTC))  # BST ends 25 Oct 02:00
    after = _next(daily, before + timedelta(minutes=1))
    assert before.astimezone(UTC) == datetime(2026, 10, 24, 6, tzinfo=UTC)  # 07:00 BST
    assert after.astimezone(UTC) == datetime(2026, 10, 25, 7, tzinfo=UTC)  # 07:00 GMT
    assert after.astimezone(LONDON).hour == 7


@pytest.mark.parametrize(("schedule", "expected"), [
    (Schedule("cron", cron="0 9 * * 1"), "Monday 09:00"),  # crontab 1 is Monday
    (Schedule("cron", cron="30 6 * * 0"), "Sunday 06:30"),
    (Schedule("cron", cron="0 18 * * *", weekdays_only=True), "Monday 18:00"),
    (Schedule("weekly", at="08:15", days=("wed",), timezone="America/New_York"),
     "Wednesday 08:15"),
    (Schedule("daily", at="07:00", weekdays_only=True), "Monday 07:00"),
])
def test_cron_and_weekly_schedules_fire_on_the_right_day(schedule: Schedule,
                                                         expected: str) -> None:
    saturday = datetime(2026, 11, 21, 12, tzinfo=UTC)
    fire = _next(schedule, saturday).astimezone(ZoneInfo(schedule.timezone))
    assert f"{fire:%A %H:%M}" == expected


def test_a_cron_text_that_is_not_cron_is_refused() -> None:
    with pytest.raises(ReportError):
        trigger_for(Schedule("cron", cron="0 9 * * funday"))


@pytest.fixture
def runner(trained_data: Path) -> Iterator[ReportRunner]:
    settings = load_settings({"OPSCOPILOT_DATA_DIR": str(trained_data),
                              "OPSCOPILOT_AS_OF": "2026-11-20"}, env_file=trained_data / "x")
    services = build_services(settings)
    yield report_runner(services)


def _every_minute(runner: ReportRunner) -> ReportTemplate:
    return runner.store.save(ReportTemplate(
        name="Trades count", sql="SELECT COUNT(*) AS n FROM trades",
        schedule=Schedule("cron", cron="* * * * *")))


def test_a_job_survives_a_scheduler_restart(runner: ReportRunner) -> None:
    template = _every_minute(runner)
    first = ReportScheduler.start_for(runner)
    due = first.next_run_times()[template.id]
    first.shutdown()
    second = ReportScheduler.start_for(runner)
    try:
        assert second is not first and second.next_run_times()[template.id] == due
    finally:
        second.shutdown()


def test_a_run_missed_while_down_runs_once_on_start_as_catch_up(
        runner: ReportRunner) -> None:
    template = _every_minute(runner)
    ReportScheduler.start_for(runner).shutdown()
    # The process was down for five minutes: the stored job is five every-minute runs late.
    # Edited in the job store itself, with no scheduler thread that could move it on.
    store = SQLAlchemyJobStore(url=runner.settings.state.url, tablename="report_jobs")
    store.start(BackgroundScheduler(), "default")
    job = store.lookup_job(f"report-{template.id}")
    job.next_run_time = datetime.now(UTC) - timedelta(minutes=5)
    store.update_job(job)
    store.shutdown()
    scheduler = ReportScheduler.start_for(runner)
    try:
        for _ in range(100):
            if runner.store.runs(template_id=template.id):
                break
            time.sleep(0.1)
        time.sleep(0.5)  # room for a wrong second run to show up
        runs = runner.store.runs(template_id=template.id)
    finally:
        scheduler.shutdown()
    assert len(runs) == 1 and runs[0].trigger == "catch-up" and runs[0].state == "success"
    assert runs[0].row_count == 1 and runs[0].files[0].endswith(".csv")


def test_two_schedulers_in_one_process_do_not_double_run(runner: ReportRunner) -> None:
    template = _every_minute(runner)
    first = ReportScheduler.start_for(runner)
    try:
        assert ReportScheduler.start_for(runner) is first  # a Streamlit rerun, a second page
        first.fire(template.id)
        first.fire(template.id)  # the same scheduled minute again
        states = [r.state for r in runner.store.runs(template_id=template.id)]
    finally:
        first.shutdown()
    assert states.count("success") == 1 and len(states) == 1


def test_a_paused_template_has_no_next_run(runner: ReportRunner) -> None:
    template = _every_minute(runner)
    scheduler = ReportScheduler.start_for(runner)
    try:
        runner.store.save(ReportTemplate(**{**template.__dict__, "paused": True}))
        scheduler.sync()
        assert scheduler.next_run_times()[template.id] is None
        runner.store.delete(template.id)
        scheduler.sync()
        assert template.id not in scheduler.next_run_times()
    finally:
        scheduler.shutdown()

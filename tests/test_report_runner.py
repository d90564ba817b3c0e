"""A report run end to end on a trained copy of the demo: the guard, the streamed query,
the files, an SMTP server and a webhook receiver on loopback, a folder drop, alerts, the
run log and the audit log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot.core.statedb import now_text
from copilot.settings import load_settings
from copilot.wiring import build_services, report_runner
from reports.model import Alert, Recipients, ReportRun, ReportTemplate
from reports.runner import ReportRunner
from tests.mailserver import MailServer, WebhookReceiver

FAILS_SQL = ("SELECT s.currency, COUNT(*) AS fails FROM settlements s WHERE s.status = 'FAILED' "
             "GROUP BY s.currency ORDER BY fails DESC")


def _runner(data: Path, **env: str) -> ReportRunner:
    settings = load_settings({"OPSCOPILOT_DATA_DIR": str(data), "OPSCOPILOT_AS_OF": "2026-11-20",
                              **env}, env_file=data / "none")
    return report_runner(build_services(settings))


@pytest.fixture
def mail() -> Iterator[MailServer]:
    with MailServer(user="reports", password="right-pass") as server:
        yield server


def _mail_env(mail: MailServer, password: str = "right-pass") -> dict[str, str]:
    return {"OPSCOPILOT_SMTP_HOST": mail.host, "OPSCOPILOT_SMTP_PORT": str(mail.port),
            "OPSCOPILOT_SMTP_SECURITY": "none", "OPSCOPILOT_SMTP_USER": "reports",
            "OPSCOPILOT_SMTP_PASSWORD": password, "OPSCOPILOT_SMTP_SENDER": "ops@bank.example"}


def _save(runner: ReportRunner, **fields: object) -> ReportTemplate:
    base = {"name": "Fails by currency", "sql": FAILS_SQL, "formats": ("csv", "pdf"),
            "subject": "{name}: {rows} currencies as of {as_of}"}
    return runner.store.save(ReportTemplate(**{**base, **fields}))


def test_a_run_renders_and_delivers_on_every_channel(
        trained_data: Path, tmp_path: Path, mail: MailServer) -> None:
    runner = _runner(trained_data, **_mail_env(mail))
    with WebhookReceiver() as hook:
        template = _save(runner, recipients=Recipients(
            emails=("desk@bank.example",), slack=(hook.url(),), teams=(hook.url("/teams"),),
            folders=(str(tmp_path / "share"),)))
        run = runner.run(template, by="lead")
    assert run.state == "success", run.error
    assert [d["channel"] for d in run.deliveries] == ["email", "slack", "teams", "folder"]
    assert all(d["ok"] for d in run.deliveries) and run.row_count and run.row_count > 1
    [email] = mail.received
    assert email.message["Subject"] == f"Fails by currency: {run.row_count} currencies as of " \
                                       "2026-11-20"
    attached = email.attachments()
    assert sorted(name.rsplit(".", 1)[1] for name in attached) == ["csv", "pdf"]
    csv_name = next(n for n in attached if n.endswith(".csv"))
    assert attached[csv_name].decode().startswith("Currency,Fails\r\n")
    assert {p.path for p in hook.posts} == {"/services/T000/B000/s3cr3tT0ken", "/teams"}
    assert sorted(p.name for p in (tmp_path / "share").iterdir()) == sorted(attached)
    [logged] = runner.store.runs(template_id=template.id)
    assert logged.state == "success" and logged.files == run.files
    record = list(runner.recorder.log.records())[-1][1]
    assert record.channel == "report" and record.outcome == "answered"
    details = json.loads(record.details)
    assert set(details["files"]) == set(attached) and len(details["deliveries"]) == 4
    assert "right-pass" not in record.canonical()


def test_a_refused_login_fails_email_once_while_the_others_deliver_a_partial_run(
        trained_data: Path, tmp_path: Path, mail: MailServer) -> None:
    runner = _runner(trained_data, **_mail_env(mail, password="wrong-pass"))
    with WebhookReceiver(statuses=(500,)) as hook:
        template = _save(runner, recipients=Recipients(
            emails=("desk@bank.example",), slack=(hook.url(),),
            folders=(str(tmp_path / "share"),)))
        run = runner.run(template)
    email, slack, folder = run.deliveries
    # A refused login is not tried again: a retry only counts toward the account's lockout.
    assert not email["ok"] and email["attempts"] == 1 and "wrong-pass" not in email["error"]
    assert len(mail.logins) == 1 and email["state"] == "failed"
    assert slack["ok"] and slack["attempts"] == 2 and folder["ok"]
    assert run.state == "partial" and "email" in run.error
    assert mail.received == []
    record = list(runner.recorder.log.records())[-1][1]
    assert record.channel == "report" and record.outcome == "partial"


def test_an_empty_result_is_skipped_when_asked(trained_data: Path, tmp_path: Path) -> None:
    runner = _runner(trained_data)
    template = _save(runner, sql="SELECT trade_id FROM trades WHERE notional < 0",
                     skip_when_empty=True, recipients=Recipients(folders=(str(tmp_path / "s"),)))
    run = runner.run(template)
    assert run.state == "skipped" and run.row_count == 0 and run.deliveries == ()
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(("op", "threshold", "state"), [
    (">", 1, "success"), (">", 10**9, "not triggered"), ("<=", 10**9, "success")])
def test_a_threshold_alert_delivers_only_when_it_holds(
        trained_data: Path, tmp_path: Path, op: str, threshold: float, state: str) -> None:
    runner = _runner(trained_data)
    template = _save(runner, sql="SELECT COUNT(*) AS fails FROM settlements WHERE status = "
                     "'FAILED'", alert=Alert("threshold", op, threshold, grace_minutes=0),
                     recipients=Recipients(folders=(str(tmp_path / "s"),)))
    run = runner.run(template)
    assert run.state == state, run.error
    assert (tmp_path / "s").exists() == (state == "success")


def test_an_anomaly_alert_fires_on_a_planted_spike_and_then_keeps_quiet(
        trained_data: Path, tmp_path: Path) -> None:
    runner = _runner(trained_data)
    template = _save(runner, sql="SELECT 12 AS fail_rate", alert=Alert(
        "anomaly", k=3, trailing=10, grace_minutes=60),
        recipients=Recipients(folders=(str(tmp_path),)))
    for value in (11.0, 12.5, 12.0, 11.5, 12.2, 11.8):  # the usual days
        runner.store.finish_run(runner.store.start_run(ReportRun(
            template.id, template.name, "schedule", now_text(), "not triggered",
            value=value)))
    normal = runner.run(template)
    assert normal.state == "not triggered" and "within 3 standard deviations" in normal.error
    spike = runner.run(runner.store.save(
        ReportTemplate(**{**template.__dict__, "sql": "SELECT 48 AS fail_rate"})))
    assert spike.state == "success" and spike.value == 48.0


def test_after_an_alert_the_grace_period_keeps_it_quiet(trained_data: Path,
                                                         tmp_path: Path) -> None:
    runner = _runner(trained_data)
    template = _save(runner, sql="SELECT 48 AS fail_rate", alert=Alert(
        "threshold", ">", 40, grace_minutes=60), recipients=Recipients(folders=(str(tmp_path),)))
    assert runner.run(template).state == "success"
    again = runner.run(template)
    assert again.state == "not triggered" and "grace period" in again.error


def test_a_refused_sql_is_an_error_run_and_is_audited(trained_data: Path) -> None:
    runner = _runner(trained_data)
    template = runner.store.save(ReportTemplate(name="Bad", sql="DELETE FROM trades"))
    run = runner.run(template)
    assert run.state == "error" and "guard refused" in run.error
    record = list(runner.recorder.log.records())[-1][1]
    assert record.channel == "report" and record.outcome == "error"


def test_a_relative_report_re_asks_its_question(trained_data: Path, tmp_path: Path) -> None:
    runner = _runner(trained_data)
    template = _save(runner, name="Netting breaks", sql="SELECT 1", relative=True,
                     question="how many netting breaks this week",
                     recipients=Recipients(folders=(str(tmp_path),)), formats=("csv",))
    run = runner.run(template)
    assert run.state == "success"
    text = Path(run.files[0]).read_text()
    assert text.splitlines()[0] != "1"  # the question's answer, not the placeholder SQL

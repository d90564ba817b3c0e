"""Issue 14, drill 6: report runs that finish or say why. A run killed with SIGKILL while a
webhook holds its request, a run hung past the time limit, a partial delivery and its exit
status, an SMTP connection dropped after the final dot: real processes, a real SMTP server
and webhook receivers on loopback, the real state and audit databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from copilot.core.audit import AuditRecord
from copilot.settings import load_settings
from copilot.wiring import build_services, report_runner
from reports.delivery import EmailChannel, ReportMessage, deliver_all
from reports.model import Recipients, ReportRun, ReportTemplate
from reports.recovery import recover_runs
from reports.runner import ReportRunner
from tests.loopback import LoopbackHTTPServer
from tests.mailserver import MailServer, WebhookReceiver

ROOT = Path(__file__).resolve().parents[1]
SQL = "SELECT status, COUNT(*) AS n FROM settlements GROUP BY status ORDER BY status"


class HoldingReceiver(LoopbackHTTPServer):
    """A webhook that records each POST; the path /hold keeps its request open until the
    test releases it, so a run can be killed mid-delivery."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.holding = threading.Event()
        self.release = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.paths.append(self.path)
                if self.path == "/hold":
                    owner.holding.set()
                    owner.release.wait(60)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(Handler)


@pytest.fixture
def holding() -> Iterator[HoldingReceiver]:
    with HoldingReceiver() as receiver:
        yield receiver
        receiver.release.set()


def _env(data: Path, **more: str) -> dict[str, str]:
    return {"OPSCOPILOT_DATA_DIR": str(data), "OPSCOPILOT_AS_OF": "2026-11-20", **more}


def _runner(data: Path, **more: str) -> ReportRunner:
    settings = load_settings(_env(data, **more), env_file=data / "none")
    return report_runner(build_services(settings))


def _cli(data: Path, *args: str, **more: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSCOPILOT_")}
    return subprocess.Popen([sys.executable, "-m", "copilot", *args], cwd=ROOT, text=True,
                            env={**env, **_env(data, **more)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def _last_audit(runner: ReportRunner) -> AuditRecord:
    return list(runner.recorder.log.records())[-1][1]


def test_a_run_killed_mid_delivery_is_completed_once_for_the_channels_it_had_not_started(
        trained_data: Path, tmp_path: Path, holding: HoldingReceiver) -> None:
    runner = _runner(trained_data)
    share = tmp_path / "share"
    template = runner.store.save(ReportTemplate(
        name="Settlements by status", sql=SQL, formats=("csv", "xlsx"),
        recipients=Recipients(slack=(holding.root + "/hold",), teams=(holding.root + "/teams",),
                              folders=(str(share),))))
    process = _cli(trained_data, "reports", "run", template.name)
    try:
        assert holding.holding.wait(120), process.communicate(timeout=5)
    finally:
        process.kill()  # SIGKILL while Slack holds the request: nothing runs after it
        process.wait(30)
    [left] = runner.store.runs(template_id=template.id)
    assert left.state == "working" and not share.exists()

    [recovered] = recover_runs(runner)
    holding.release.set()
    assert recovered.id == left.id and recovered.state == "interrupted"
    states = [(d["channel"], d["state"]) for d in recovered.deliveries]
    assert states == [("slack", "uncertain"), ("teams", "sent"), ("folder", "sent")]
    assert holding.paths == ["/hold", "/teams"]  # Slack not sent again; Teams once
    assert sorted(p.suffix for p in share.iterdir()) == [".csv", ".xlsx"]
    assert "the process running it stopped" in recovered.error
    assert "Completed afterwards for teams" in recovered.error and "not sent again" in \
        recovered.error
    assert runner.store.runs(template_id=template.id)[0].state == "interrupted"
    record = _last_audit(runner)
    assert record.channel == "report" and record.outcome == "partial"
    assert json.loads(record.details)["state"] == "interrupted"

    assert recover_runs(runner) == []  # once: a second pass finds nothing to do
    assert holding.paths == ["/hold", "/teams"] and len(list(share.iterdir())) == 2


def test_a_run_past_the_time_limit_is_reaped_and_a_fresh_one_is_left_alone(
        trained_data: Path, tmp_path: Path) -> None:
    runner = _runner(trained_data, OPSCOPILOT_REPORT_RUN_LIMIT_MINUTES="30")
    template = runner.store.save(ReportTemplate(
        name="Hung", sql=SQL, recipients=Recipients(folders=(str(tmp_path / "drop"),))))
    old = (datetime.now(UTC) - timedelta(minutes=31)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    hung = runner.store.start_run(ReportRun(template.id, template.name, "manual", old))
    fresh = runner.store.start_run(ReportRun(
        template.id, template.name, "manual", datetime.now(UTC).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ")))
    for run in (hung, fresh):  # both owned by this very process, which is alive
        runner.ledger.claim(run.id)
    [reaped] = recover_runs(runner)
    assert reaped.id == hung.id and "ran longer than the limit of 30 min" in reaped.error
    assert "stopped before anything was sent" in reaped.error
    assert runner.store.run(fresh.id).state == "working"
    # The hung process, should it wake up, cannot overwrite what the reaper recorded.
    assert not runner.store.finish_run(ReportRun(
        template.id, template.name, "manual", old, "success", id=hung.id))
    assert runner.store.run(hung.id).state == "interrupted"
    assert _last_audit(runner).outcome == "error"


def test_a_partial_delivery_is_partial_in_the_log_the_audit_and_the_exit_status(
        trained_data: Path, tmp_path: Path) -> None:
    with MailServer(user="reports", password="right") as mail, WebhookReceiver() as hook:
        smtp = {"OPSCOPILOT_SMTP_HOST": mail.host, "OPSCOPILOT_SMTP_PORT": str(mail.port),
                "OPSCOPILOT_SMTP_SECURITY": "none", "OPSCOPILOT_SMTP_USER": "reports",
                "OPSCOPILOT_SMTP_PASSWORD": "wrong", "OPSCOPILOT_SMTP_SENDER": "ops@bank.example"}
        runner = _runner(trained_data, **smtp)
        template = runner.store.save(ReportTemplate(
            name="Partial", sql=SQL, recipients=Recipients(emails=("desk@bank.example",),
                                                           slack=(hook.url(),))))
        process = _cli(trained_data, "reports", "run", "Partial", **smtp)
        out, err = process.communicate(timeout=120)
    assert process.returncode == 3, err
    assert out.startswith("partial: ") and "email desk@bank.example: failed" in out
    assert "slack slack:127.0.0.1: sent" in out
    [run] = runner.store.runs(template_id=template.id)
    assert run.state == "partial" and len(hook.posts) == 1 and not mail.received
    assert len(mail.logins) == 1  # one failed login, not three
    record = _last_audit(runner)
    assert record.outcome == "partial" and "refused the login" in record.reason


def test_an_smtp_connection_dropped_after_the_final_dot_is_not_sent_again() -> None:
    message = ReportMessage(subject="Fails", body="3 fails", columns=("n",), rows=((3,),))
    with MailServer(drop_after_data=True) as mail:
        channel = EmailChannel(host=mail.host, port=mail.port, security="none", username="",
                               password="", sender="ops@bank.example",
                               recipients=("desk@bank.example",), timeout_s=5)
        (outcome,) = deliver_all(message, [channel], sleep=lambda _s: None)
    assert len(mail.received) == 1  # it arrived, once: before, three copies did
    assert not outcome.ok and outcome.uncertain and outcome.attempts == 1
    assert "may have arrived and is not sent again" in outcome.error

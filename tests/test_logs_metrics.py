"""Logs and metrics for an enterprise deployment: JSON lines whose request id is the audit
record's, no secret in any line, and the Prometheus endpoint (`python -m copilot metrics`)
over HTTP on loopback adding up what separate processes counted, with the queue depth read
from a Redis server started here."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from copilot.core.logs import configure_logging, request
from copilot.settings import load_settings
from copilot.wiring import build_services, report_runner
from reports.model import Recipients, ReportTemplate
from tests.mailserver import MailServer

ROOT = Path(__file__).resolve().parents[1]
LLM_KEY = "sk-live-4f9a8b7c6d5e"
SMTP_PASSWORD = "smtp-pa55-word-77"
FAILS_SQL = ("SELECT s.currency, COUNT(*) AS fails FROM settlements s WHERE s.status = 'FAILED' "
             "GROUP BY s.currency ORDER BY fails DESC")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A redis-server of our own on loopback: no disk, a free port, a temporary folder."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is missing: apt-get install -y redis-server"
    folder, port = tempfile.mkdtemp(prefix="opscopilot-redis-"), free_port()
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no", "--dir", folder],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        for _ in range(100):
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def _env(data: Path, **extra: str) -> dict[str, str]:
    return {"OPSCOPILOT_DATA_DIR": str(data), "OPSCOPILOT_AS_OF": "2026-11-20", **extra}


def _lines(captured: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in captured.getvalue().splitlines() if line.strip()]


def test_a_question_logs_one_json_line_with_the_audit_records_request_id(
        trained_data: Path) -> None:
    settings = load_settings(_env(trained_data, OPSCOPILOT_LOG_FORMAT="json"),
                             env_file=trained_data / "none")
    services = build_services(settings)
    captured = io.StringIO()
    handler = configure_logging(settings, stream=captured)
    try:
        answer = services.answering.ask("fails by counterparty this month", user="ana")
        services.answering.run_sql("SELECT COUNT(*) FROM trades", user="ana")
    finally:
        logging.getLogger().removeHandler(handler)
    assert answer.status == "answered"
    lines = _lines(captured)
    questions = [line for line in lines if line["logger"] == "copilot.requests"]
    assert [(q["request_kind"], q["status"]) for q in questions] == [
        ("question", "answered"), ("sql", "answered")]
    first = questions[0]
    assert {"ts", "level", "logger", "message", "request_id"} <= set(first)
    assert first["user"] == "ana" and first["channel"] == "ask"
    assert first["chars"] == len("fails by counterparty this month")
    assert "counterparty" not in json.dumps(first)  # the length, never the text
    records = [r for _, r in services.audit.records()][-2:]
    ids = [json.loads(r.details)["request_id"] for r in records]
    assert ids == [q["request_id"] for q in questions] and ids[0] != ids[1]


def test_a_request_inside_another_names_its_parent_and_lines_outside_have_none() -> None:
    settings = load_settings({"OPSCOPILOT_LOG_FORMAT": "json"}, env_file=Path("/nonexistent"))
    captured = io.StringIO()
    handler = configure_logging(settings, stream=captured)
    log = logging.getLogger("copilot.test")
    try:
        with request("report run", report="Fails") as run:
            with request("delivery", channel="email") as delivery:
                log.info("sending")
            log.info("done")
        log.warning("outside")
    finally:
        logging.getLogger().removeHandler(handler)
    sending, done, outside = _lines(captured)
    assert sending["request_id"] == delivery.id != run.id
    assert sending["parent_request_id"] == run.id and sending["channel"] == "email"
    assert done["request_id"] == run.id and "parent_request_id" not in done
    assert outside["request_id"] == "" and outside["level"] == "WARNING"


def test_no_secret_reaches_a_log_line(trained_data: Path, tmp_path: Path) -> None:
    with MailServer(user="reports", password=SMTP_PASSWORD) as mail:
        settings = load_settings(_env(
            trained_data, OPSCOPILOT_LOG_FORMAT="json", OPSCOPILOT_LOG_LEVEL="DEBUG",
            OPSCOPILOT_LLM_BASE_URL=f"http://127.0.0.1:{free_port()}/v1",
            OPSCOPILOT_LLM_MODEL="m", OPSCOPILOT_LLM_API_KEY=LLM_KEY,
            OPSCOPILOT_SMTP_HOST=mail.host, OPSCOPILOT_SMTP_PORT=str(mail.port),
            OPSCOPILOT_SMTP_SECURITY="none", OPSCOPILOT_SMTP_USER="reports",
            OPSCOPILOT_SMTP_PASSWORD=SMTP_PASSWORD, OPSCOPILOT_SMTP_SENDER="ops@bank.example"),
            env_file=trained_data / "none")
        services = build_services(settings)
        captured = io.StringIO()
        handler = configure_logging(settings, stream=captured)
        try:
            services.answering.ask("fails by counterparty this month")
            services.answering.ask("what is the airspeed of an unladen swallow")  # the LLM
            runner = report_runner(services)
            template = runner.store.save(ReportTemplate(
                name="Fails by currency", sql=FAILS_SQL, formats=("csv",),
                recipients=Recipients(email=("desk@bank.example",))))
            run = runner.run(template, by="lead")
            # Whatever a module writes, even a careless one: the line hides the secrets.
            logging.getLogger("careless").error("connecting with key %s and password %s "
                                                "to smtp://reports:%s@mail", LLM_KEY,
                                                SMTP_PASSWORD, SMTP_PASSWORD)
            logging.getLogger("careless").error("Authorization: Bearer abcdefgh12345678")
        finally:
            logging.getLogger().removeHandler(handler)
    assert run.state == "success", run.error
    assert mail.received  # the password was used: the server took the login
    text = captured.getvalue()
    assert LLM_KEY not in text and SMTP_PASSWORD not in text
    assert "abcdefgh12345678" not in text and text.count("***") >= 4
    kinds = {line.get("request_kind") for line in _lines(captured)}
    assert {"question", "report run", "delivery"} <= kinds


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return response.read().decode()


def _value(text: str, name: str, **labels: str) -> float:
    """The sample `name{labels}` (labels in any order), 0 when absent."""
    for line in text.splitlines():
        match = re.fullmatch(r"(\w+)(?:\{(.*)\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group(3))
    return 0.0


def test_the_metrics_endpoint_adds_up_what_other_processes_counted(
        trained_data: Path, tmp_path: Path, redis_url: str) -> None:
    metrics_dir = tmp_path / "prom"
    metrics_dir.mkdir()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("OPSCOPILOT_")},
           **_env(trained_data, OPSCOPILOT_REDIS_URL=redis_url,
                  OPSCOPILOT_METRICS_QUEUES="copilot-reports,reports"),
           "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "PYTHONPATH": str(ROOT)}
    settings = load_settings(env, env_file=trained_data / "none")
    store = report_runner(build_services(settings)).store
    store.save(ReportTemplate(name="Fails by currency", sql=FAILS_SQL, formats=("csv",),
                              recipients=Recipients(folder=(str(tmp_path / "share"),))))
    redis.Redis.from_url(redis_url).rpush("copilot-reports", "a", "b", "c")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "copilot", "metrics", "--port", str(port)],
                              env=env, cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        assert server.stdout.readline().startswith(f"metrics on http://127.0.0.1:{port}")
        before = _scrape(port)
        assert _value(before, "opscopilot_queue_depth", queue="copilot-reports") == 3
        assert _value(before, "opscopilot_queue_depth", queue="reports") == 0
        assert _value(before, "opscopilot_redis_up") == 1
        asked = _value(before, "opscopilot_questions_total", channel="cli", status="answered")

        def command(*args: str) -> None:
            done = subprocess.run([sys.executable, "-m", "copilot", *args], env=env,
                                  cwd=tmp_path, capture_output=True, text=True, timeout=240)
            assert done.returncode == 0, done.stderr

        command("ask", "fails by counterparty this month")
        command("ask", "fails by counterparty this month")
        middle = _scrape(port)
        assert _value(middle, "opscopilot_questions_total", channel="cli",
                      status="answered") == asked + 2
        assert _value(middle, "opscopilot_answer_seconds_count", channel="cli") >= 2
        assert _value(middle, "opscopilot_report_runs_total", state="success") == 0
        command("reports", "run", "Fails by currency")
        after = _scrape(port)
        assert _value(after, "opscopilot_report_runs_total", state="success",
                      trigger="manual") == 1
        assert _value(after, "opscopilot_deliveries_total", channel="folder", outcome="ok") == 1
        assert _value(after, "opscopilot_audit_records_total", channel="report",
                      outcome="answered") == 1
    finally:
        server.terminate()
        server.wait(timeout=10)

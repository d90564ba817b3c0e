"""The audit log on real SQLite files and the test-started PostgreSQL: the chain holds, a
change is found and named, PostgreSQL refuses UPDATE and DELETE, exports round-trip."""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest
from openpyxl import load_workbook
from pgserver import PostgresServer

from copilot.core.audit import (
    AuditError,
    AuditFilter,
    AuditLog,
    AuditRecord,
    Protection,
    result_sha256,
)
from copilot.core.audit.export import export_records

ROOT = Path(__file__).resolve().parents[1]


def _record(i: int, **extra: object) -> AuditRecord:
    return AuditRecord(channel="ask", outcome="answered", user="n.singh",
                       question=f"fails by counterparty #{i}", sql_run="SELECT 1",
                       tables=("settlements", "trades"), row_count=i, duration_ms=1.5 + i,
                       result_sha256=result_sha256(["n"], [[i]]), **extra)


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    return AuditLog(f"sqlite:///{tmp_path / 'audit.db'}")


def test_untouched_chain_verifies(log: AuditLog) -> None:
    ids = [log.append(_record(i)) for i in range(20)]
    assert ids == list(range(1, 21))
    result = log.verify()
    assert result.ok and result.records == 20
    first = next(iter(log.records()))[1]
    assert first.tables == ("settlements", "trades") and first.user == "n.singh"


@pytest.mark.parametrize(
    ("tamper", "broken", "words"),
    [
        ("UPDATE audit_log SET question = 'nothing to see' WHERE id = 7", 7, "changed"),
        ("UPDATE audit_log SET row_count = 0 WHERE id = 12", 12, "changed"),
        ("DELETE FROM audit_log WHERE id = 9", 10, "missing"),
        ("UPDATE audit_log SET prev_hash = record_hash WHERE id = 4", 4, "link"),
    ],
)
def test_an_edited_file_is_caught_at_the_record(
    log: AuditLog, tmp_path: Path, tamper: str, broken: int, words: str
) -> None:
    for i in range(15):
        log.append(_record(i))
    with sqlite3.connect(tmp_path / "audit.db") as conn:
        conn.execute(tamper)
    result = log.verify()
    assert not result.ok and result.broken_id == broken and words in result.reason


def test_concurrent_appends_keep_one_chain(log: AuditLog) -> None:
    threads = [threading.Thread(target=lambda n=n: [log.append(_record(n * 100 + i))
                                                    for i in range(20)]) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert log.verify().ok and log.verify().records == 80


def test_result_hash_is_canonical() -> None:
    assert result_sha256(["a", "b"], [[1, 2.50]]) == result_sha256(["a", "b"], [[1, 2.5]])
    assert result_sha256(["a"], [[1]]) != result_sha256(["a"], [[2]])
    assert result_sha256(["a"], [[1], [2]]) != result_sha256(["a"], [[2], [1]])


def test_unwritable_audit_database_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match="cannot be opened"):
        AuditLog(f"sqlite:///{tmp_path}")  # a folder, not a file


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "xlsx"])
def test_export_round_trips_and_is_itself_audited(log: AuditLog, tmp_path: Path,
                                                  fmt: str) -> None:
    for i in range(5):
        log.append(_record(i))
    out = tmp_path / f"export.{fmt}"
    assert export_records(log, fmt, out, AuditFilter(), user="compliance") == 5
    if fmt == "csv":
        with out.open() as handle:
            rows = list(csv.DictReader(handle))
        questions = [r["question"] for r in rows]
        assert rows[0]["tables"] == "settlements,trades"
    elif fmt == "jsonl":
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        questions = [r["question"] for r in rows]
        assert rows[0]["tables"] == ["settlements", "trades"]
    else:
        sheet = load_workbook(out, read_only=True)["audit"]
        table = list(sheet.iter_rows(values_only=True))
        questions = [row[table[0].index("question")] for row in table[1:]]
    assert questions == [f"fails by counterparty #{i}" for i in range(5)]
    last_id, last = list(log.records())[-1]
    assert last_id == 6 and last.user == "compliance" and f"audit export ({fmt})" in last.question
    assert log.verify().ok


def test_export_filters_by_text_and_channel(log: AuditLog, tmp_path: Path) -> None:
    log.append(_record(1))
    log.append(AuditRecord(channel="training", outcome="recorded", user="lead",
                           question="trained version 2"))
    only = [r for _, r in log.records(AuditFilter(channel="training"))]
    assert [r.question for r in only] == ["trained version 2"]
    assert [r.row_count for _, r in log.records(AuditFilter(text="counterparty"))] == [1]


def test_cli_verify_and_export(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    log = AuditLog(url)
    for i in range(3):
        log.append(_record(i))
    env = {"PATH": "/usr/bin:/bin", "OPSCOPILOT_AUDIT_URL": url,
           "OPSCOPILOT_ENV_FILE": str(tmp_path / "none"), "OPSCOPILOT_USER": "auditor"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "copilot", "audit", *args], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=60)

    assert "ok: 3 records" in cli("verify").stdout
    out = tmp_path / "out.jsonl"
    assert "exported 3 records" in cli("export", "--format", "jsonl", "--out", str(out)).stdout
    with sqlite3.connect(tmp_path / "audit.db") as conn:
        conn.execute("UPDATE audit_log SET user = 'someone else' WHERE id = 2")
    broken = cli("verify")
    assert broken.returncode == 1 and "broken: record 2" in broken.stdout


def test_postgres_refuses_update_delete_and_truncate(postgres: PostgresServer,
                                                     tmp_path: Path) -> None:
    conninfo = f"host=127.0.0.1 port={postgres.port} user={postgres.superuser}"
    with psycopg.connect(f"{conninfo} dbname=postgres", autocommit=True) as admin:
        admin.execute("CREATE DATABASE audit_test")
    log = AuditLog(postgres.url("audit_test"), Protection.in_folder(tmp_path))
    for i in range(5):
        log.append(_record(i))
    assert log.verify().ok
    for statement in ("UPDATE audit_log SET question = 'x' WHERE id = 2",
                      "DELETE FROM audit_log WHERE id = 3", "TRUNCATE audit_log",
                      "UPDATE audit_meta SET value = '1' WHERE key = 'keyed_from'",
                      "DELETE FROM audit_meta"):
        with psycopg.connect(f"{conninfo} dbname=audit_test") as conn, pytest.raises(
            psycopg.errors.RaiseException, match="append-only"
        ):
            conn.execute(statement)
    assert log.verify().ok and log.verify().records == 5
    log.dispose()


def test_every_question_and_training_change_writes_one_record(trained_data: Path) -> None:
    from copilot.settings import load_settings
    from copilot.wiring import build_services
    from training.trainer import PairUpload

    settings = load_settings({"OPSCOPILOT_DATA_DIR": str(trained_data),
                              "OPSCOPILOT_AS_OF": "2026-11-20", "OPSCOPILOT_USER": "n.singh"},
                             env_file=trained_data / "no.env")
    services = build_services(settings)
    before = len(list(services.audit.records()))

    answered = services.answering.ask("fails by counterparty this month")
    refused = services.answering.ask("fails by colour")
    services.trainer.add_pairs([PairUpload("fails today", "SELECT COUNT(*) FROM settlements "
                                                           "WHERE status = 'FAILED'")], by="lead")
    records = [r for _, r in services.audit.records()][before:]
    assert [(r.channel, r.outcome) for r in records] == [
        ("ask", "answered"), ("ask", "refused"), ("training", "recorded")]
    first = records[0]
    assert first.user == "n.singh" and first.engine == "parser"
    assert first.sql_run == answered.sql and first.sql_generated.startswith("SELECT")
    assert first.row_count == len(answered.rows) and first.tables == (
        "counterparties", "settlements", "trades")
    assert first.result_sha256 == result_sha256(answered.columns, answered.rows)
    assert first.profile_version == "demo-1" and first.duration_ms > 0
    assert records[1].reason == refused.interpretation and records[1].sql_run == ""
    assert records[2].profile_version == "demo-2" and records[2].user == "lead"
    assert services.audit.verify().ok

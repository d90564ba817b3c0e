"""Memory bombs, oversized input and running out of memory (issue 14, drills 3 and 9).

The guard refuses a statement that could build a huge string (its bound on string growth);
SQLite itself caps a value at 16 MB (the second wall); memory that runs out anyway is a typed
error, answered and audited. Every check runs on the real demo warehouse and audit log.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from copilot.answering import AUDIT_QUESTION_CHARS
from copilot.core.audit import AuditLog, AuditRecord
from copilot.core.connections import SQLITE_MAX_VALUE_BYTES
from copilot.core.errors import QueryFailed
from copilot.core.warehouse import Warehouse
from copilot.settings import load_settings
from copilot.wiring import Services, build_services

REPO = Path(__file__).resolve().parents[1]


def _services(data: Path, **env: str) -> Services:
    return build_services(load_settings(
        {"OPSCOPILOT_DATA_DIR": str(data), "OPSCOPILOT_AS_OF": "2026-11-20", **env},
        env_file=data / "no.env"))


def _last_record(data: Path) -> AuditRecord:
    log = AuditLog(f"sqlite:///{data / 'audit.db'}", create=False)
    try:
        return list(log.records())[-1][1]
    finally:
        log.dispose()


@pytest.mark.parametrize("sql", [
    "SELECT printf('%.*c', 999999999, 'x') FROM trades",
    "SELECT length(printf('%999999999c', 'x')) FROM trades",
    "SELECT length(replace(replace(replace(notional_ccy, 'U', 'UUUUUUUUUUUUUUUUUUUUUUUUUUUU'),"
    " 'U', 'UUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUU'), 'U', 'UUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUU'))"
    " FROM trades",
    "SELECT zeroblob(1000000000)",
])
def test_a_memory_bomb_is_refused_before_it_runs_and_audited(trained_data: Path,
                                                               sql: str) -> None:
    services = _services(trained_data)
    started = time.monotonic()
    answer = services.answering.run_sql(sql)
    assert time.monotonic() - started < 2
    assert answer.status == "refused" and "guard refused" in answer.interpretation
    services.warehouse.dispose()
    record = _last_record(trained_data)
    assert record.outcome == "blocked" and record.sql_generated == sql


def test_sqlite_caps_a_value_even_without_the_guard(small_demo_db: Path) -> None:
    # The second wall: SQLite's own length limit, reached in milliseconds, three at once.
    warehouse = Warehouse(f"sqlite:///{small_demo_db}", timeout_s=30)
    below = SQLITE_MAX_VALUE_BYTES - 1
    assert warehouse._run(f"SELECT length(printf('%{below}c', 'x'))", 1).rows == ((below,),)
    # printf past the cap gives NULL at once, not 1 GB (the drill: 2.9 GB and 19 s).
    assert warehouse._run("SELECT length(printf('%999999999c', 'x'))", 1).rows == ((None,),)
    fifty = "a" * 50
    amplified = ("SELECT length(" + "replace(" * 5 + f"'{fifty}'"
                 + f", 'a', '{fifty}')" * 5 + ")")  # 50**6 bytes: 15 GB
    failures: list[str] = []

    def bomb() -> None:
        try:
            warehouse._run(amplified, 1)
        except QueryFailed as exc:
            failures.append(str(exc))

    threads = [threading.Thread(target=bomb) for _ in range(3)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started < 3  # the drill: 65 s against a 30 s limit
    assert len(failures) == 3 and all("larger than the copilot reads" in f for f in failures)
    warehouse.dispose()


_OUT_OF_MEMORY = """
import resource, sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from copilot.settings import load_settings
from copilot.wiring import build_services
data = Path(sys.argv[1])
services = build_services(load_settings(
    {"OPSCOPILOT_DATA_DIR": str(data), "OPSCOPILOT_AS_OF": "2026-11-20",
     "OPSCOPILOT_GUARD_POLICY": str(data / "policy.yaml")}, env_file=data / "no.env"))
status = [line for line in open("/proc/self/status") if line.startswith("VmSize")]
size = int(status[0].split()[1]) * 1024
# 800 MB more than the process holds: 200 rows of 15 MB strings cannot fit.
resource.setrlimit(resource.RLIMIT_AS, (size + 800 * 2**20, resource.RLIM_INFINITY))
answer = services.answering.run_sql("SELECT printf('%15000000c', 'x') AS s FROM trades LIMIT 200")
print(answer.status, answer.interpretation)
"""


def test_memory_that_runs_out_is_a_typed_error_answered_and_audited(
        trained_data: Path) -> None:
    # A bank's policy that allows 100 MB strings: the guard lets the statement through, and
    # the process's address space (RLIMIT_AS) runs out while the rows come back.
    (trained_data / "policy.yaml").write_text("max_string_growth: 100000000\n")
    done = subprocess.run([sys.executable, "-c", _OUT_OF_MEMORY, str(trained_data), str(REPO)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("error The query needed more memory than the copilot has")
    record = _last_record(trained_data)
    assert record.outcome == "error" and "more memory" in record.reason


def test_a_huge_question_is_refused_at_once_and_audited_short(trained_data: Path) -> None:
    services = _services(trained_data)
    question = "how many trades " * 65_536  # 1 MB pasted into the box
    started = time.monotonic()
    answer = services.answering.ask(question)
    assert time.monotonic() - started < 1
    assert answer.status == "refused" and "longer than 500 characters" in answer.interpretation
    services.warehouse.dispose()
    record = _last_record(trained_data)
    assert len(record.question) == AUDIT_QUESTION_CHARS + len(" [...]")
    details = json.loads(record.details)
    assert details["question_chars"] == len(question)
    assert len(details["question_sha256"]) == 64


def test_undecodable_command_line_text_is_refused_and_audited(trained_data: Path) -> None:
    env = {"OPSCOPILOT_DATA_DIR": str(trained_data), "OPSCOPILOT_AS_OF": "2026-11-20",
           "PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "copilot", "ask", b"how many trades \xff\xfe"],
                          capture_output=True, text=True, env=env, cwd=trained_data,
                          timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "not valid UTF-8" in done.stderr and "Nothing was run" in done.stderr
    record = _last_record(trained_data)
    assert record.outcome == "blocked" and record.question == "how many trades \\xff\\xfe"
    assert record.sql_run == ""

"""`python -m copilot` as ops automation runs it: real processes, real files."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "copilot", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=env,
    )


def _dump_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with sqlite3.connect(path) as conn:
        tables = conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY 1")
        for (table,) in tables.fetchall():
            for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY 1'):
                digest.update(repr(row).encode())
    return digest.hexdigest()


def test_demo_db_builds_the_same_warehouse_twice(tmp_path: Path) -> None:
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    for out in (first, second):
        done = _cli("demo-db", "--out", str(out), "--as-of", "2026-11-20", "--trades", "1500")
        assert done.returncode == 0, done.stderr
        assert "as of 2026-11-20" in done.stdout and "trades 1,500" in done.stdout
    assert _dump_digest(first) == _dump_digest(second)


def test_demo_db_bad_arguments_are_one_line_errors(tmp_path: Path) -> None:
    done = _cli("demo-db", "--out", str(tmp_path / "x.db"), "--trades", "0")
    assert done.returncode == 2 and done.stderr.startswith("error: ")
    assert "Traceback" not in done.stderr and not (tmp_path / "x.db").exists()
    done = _cli("demo-db", "--out", str(tmp_path / "x.db"), "--as-of", "20/11/2026")
    assert done.returncode == 2 and "is not a date" in done.stderr


def test_settings_command_hides_passwords(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "OPSCOPILOT_WAREHOUSE_URL": "postgresql+psycopg://ro:s3cret@db:5432/otc",
        "OPSCOPILOT_ENV_FILE": str(tmp_path / "none"),
    }
    done = _cli("settings", env=env)
    assert done.returncode == 0, done.stderr
    assert "s3cret" not in done.stdout
    assert "OPSCOPILOT_WAREHOUSE_URL=postgresql+psycopg://ro:***@db:5432/otc" in done.stdout
    assert "OPSCOPILOT_ROW_CAP=5000" in done.stdout


def test_prepare_builds_the_demo_warehouse_once(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "OPSCOPILOT_DATA_DIR": str(tmp_path / "data"),
        "OPSCOPILOT_DEMO_TRADES": "400",
        "OPSCOPILOT_ENV_FILE": str(tmp_path / "none"),
    }
    done = _cli("prepare", env=env)
    assert done.returncode == 0, done.stderr
    assert "ready:" in done.stdout and "with 8 tables" in done.stdout
    assert "dashboard 'Ops morning check' built" in done.stdout
    built = tmp_path / "data" / "otc_demo.db"
    stamp = built.stat().st_mtime_ns
    again = _cli("prepare", env=env)
    assert again.returncode == 0 and "dashboard" not in again.stdout
    assert built.stat().st_mtime_ns == stamp  # present, so not rebuilt


def test_prepare_reports_an_unreachable_warehouse(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "OPSCOPILOT_WAREHOUSE_URL": f"sqlite:///{tmp_path / 'missing.db'}",
        "OPSCOPILOT_ENV_FILE": str(tmp_path / "none"),
    }
    done = _cli("prepare", env=env)
    assert done.returncode == 2 and "does not exist" in done.stderr


def _check(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "copilot", "sql-check", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120, input=stdin,
    )


def test_sql_check_allowed_statement_exits_zero(small_demo_db: Path) -> None:
    done = _check("--dialect", "tsql", "--db", f"sqlite:///{small_demo_db}",
                  "SELECT trade_id FROM trades WHERE status = 'LIVE'")
    assert done.returncode == 0, done.stderr
    verdict = json.loads(done.stdout)
    assert verdict["allowed"] is True and verdict["rule"] is None
    assert verdict["sql"].startswith("SELECT TOP ")


def test_sql_check_refusal_exits_one_with_the_rule(small_demo_db: Path) -> None:
    done = _check("--dialect", "sqlite", "--db", f"sqlite:///{small_demo_db}",
                  "SELECT 1; DROP TABLE trades")
    assert done.returncode == 1
    verdict = json.loads(done.stdout)
    assert verdict == {**verdict, "allowed": False, "rule": "single_statement", "sql": None}
    assert "DROP" in verdict["reason"]


def test_sql_check_jsonl_keeps_order_one_verdict_a_line(
    small_demo_db: Path, tmp_path: Path
) -> None:
    lines = [
        json.dumps({"sql": "SELECT COUNT(*) FROM settlements WHERE status = 'FAILED'"}),
        "this line is not json",
        json.dumps({"sql": "SELECT * FROM pg_shadow"}),
        "",
        json.dumps({"sql": "SELECT short_name FROM counterparties"}),
    ]
    source = tmp_path / "saved.jsonl"
    source.write_text("\n".join(lines) + "\n")
    done = _check("--dialect", "postgres", "--db", f"sqlite:///{small_demo_db}",
                  "--jsonl", str(source))
    assert done.returncode == 1
    verdicts = [json.loads(line) for line in done.stdout.splitlines()]
    assert [v["allowed"] for v in verdicts] == [True, False, False, True]
    assert [v["rule"] for v in verdicts] == [None, "input", "known_tables", None]
    assert "line 2" in done.stderr

    only_good = _check("--dialect", "postgres", "--db", f"sqlite:///{small_demo_db}",
                       "--jsonl", "-", stdin=lines[0] + "\n" + lines[4] + "\n")
    assert only_good.returncode == 0 and len(only_good.stdout.splitlines()) == 2


def test_sql_check_bad_database_is_an_error(tmp_path: Path) -> None:
    done = _check("--dialect", "sqlite", "--db", f"sqlite:///{tmp_path / 'none.db'}", "SELECT 1")
    assert done.returncode == 2 and done.stderr.startswith("error: ")


def test_train_command_status_train_pairs_diff_rollback(
    tmp_path: Path, small_demo_db: Path
) -> None:
    own = tmp_path / "own.db"
    own.write_bytes(small_demo_db.read_bytes())
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "OPSCOPILOT_DATA_DIR": str(tmp_path / "data"),
        "OPSCOPILOT_WAREHOUSE_URL": f"sqlite:///{own}",
        "OPSCOPILOT_ENV_FILE": str(tmp_path / "none"),
        "OPSCOPILOT_USER": "ops.lead",
    }
    status = _cli("train", "--status", env=env)
    assert status.returncode == 3 and "python -m copilot train" in status.stdout

    trained = _cli("train", "--note", "first", env=env)
    assert trained.returncode == 0, trained.stderr
    assert "active: profile 'main' version 1" in trained.stdout and "ops.lead" in trained.stdout
    assert _cli("train", "--status", env=env).returncode == 0

    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"question": "fails today", "sql":
                                 "SELECT COUNT(*) FROM settlements WHERE status = 'FAILED'"}))
    assert "version 2" in _cli("train", "--pairs", str(pairs), env=env).stdout
    diff = _cli("train", "--diff", "1", "2", env=env)
    assert "pairs     + fails today" in diff.stdout

    bad = tmp_path / "bad.yaml"
    bad.write_text("- {question: wipe, sql: DROP TABLE trades}\n")
    refused = _cli("train", "--pairs", str(bad), env=env)
    assert refused.returncode == 2 and "DROP" in refused.stderr

    back = _cli("train", "--rollback", "1", env=env)
    assert "active: profile 'main' version 1" in back.stdout
    listing = _cli("train", "--list", env=env).stdout.splitlines()
    assert [line.split()[0] for line in listing] == ["v2", "*"]


def test_reports_run_and_the_scheduler_from_the_command_line(trained_data: Path,
                                                              tmp_path: Path) -> None:
    import os
    import signal

    from reports.model import Recipients, ReportTemplate
    from reports.store import ReportStore

    ReportStore(f"sqlite:///{trained_data / 'state.db'}").save(ReportTemplate(
        name="Fails by status", sql="SELECT status, COUNT(*) AS n FROM settlements "
        "GROUP BY status", recipients=Recipients(folders=(str(tmp_path / "share"),))))
    env = {**os.environ, "OPSCOPILOT_DATA_DIR": str(trained_data),
           "OPSCOPILOT_AS_OF": "2026-11-20", "OPSCOPILOT_ENV_FILE": str(tmp_path / "none")}
    done = _cli("reports", "run", "Fails by status", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("success:") and "folder" in done.stdout
    assert len(list((tmp_path / "share").iterdir())) == 1
    listed = _cli("reports", "list", env=env)
    assert "Fails by status\tdaily at 07:00 UTC\tlast success" in listed.stdout
    missing = _cli("reports", "run", "No such report", env=env)
    assert missing.returncode == 2 and "no report named" in missing.stderr

    server = subprocess.Popen([sys.executable, "-m", "copilot", "scheduler"], cwd=ROOT,
                              env=env, stdout=subprocess.PIPE, text=True)
    try:
        first = server.stdout.readline()
        assert first.startswith("scheduler running: 1 reports; next at ")
    finally:
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=30)
    assert server.returncode == 0 and "scheduler stopped" in out


def test_glossary_draft_review_and_a_drafted_profile_on_the_command_line(tmp_path: Path) -> None:
    own = tmp_path / "fleet.db"
    with sqlite3.connect(own) as conn:
        conn.executescript(
            'CREATE TABLE "Vessel" ("VesselId" INTEGER PRIMARY KEY, "Name" VARCHAR(40), '
            '"Flag" VARCHAR(20), "GrossTonnage" INTEGER);'
            'CREATE TABLE "Voyage" ("VoyageId" INTEGER PRIMARY KEY, "VesselId" INTEGER NOT NULL '
            'REFERENCES "Vessel" ("VesselId"), "DepartureDate" DATE NOT NULL, "ArrivalDate" DATE);'
            "INSERT INTO Vessel VALUES (1, 'Aurora', 'Panama', 50000), (2, 'Borealis', "
            "'Liberia', 42000);"
            "INSERT INTO Voyage VALUES (1, 1, '2026-11-02', NULL), (2, 2, '2026-11-03', NULL);")
    conn.close()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "OPSCOPILOT_DATA_DIR": str(tmp_path / "data"),
           "OPSCOPILOT_ENV_FILE": str(tmp_path / "none"), "OPSCOPILOT_USER": "ops.lead"}
    url, out = f"sqlite:///{own}", tmp_path / "fleet-glossary"

    drafted = _cli("glossary", "draft", "--db", url, "--out", str(out), env=env)
    assert drafted.returncode == 0, drafted.stderr
    assert ("tables 2, entities 2, terms 2, period columns 1, join paths 0, rules 1"
            in drafted.stdout), drafted.stdout
    assert f"from {url} in " in drafted.stdout and " s: " in drafted.stdout
    again = _cli("glossary", "draft", "--db", url, "--out", str(out), env=env)
    assert again.returncode == 2 and "already holds files" in again.stderr
    assert _cli("glossary", "draft", "--db", url, "--out", str(out), "--force",
                env=env).returncode == 0

    trained = _cli("train", "--db", url, "--glossary", str(out), env=env)
    assert trained.returncode == 0, trained.stderr
    assert "(drafted, not reviewed)" in trained.stdout
    status = _cli("train", "--db", url, "--status", env=env)
    assert status.returncode == 0 and "ready:" in status.stdout
    assert "answers from version 1 (drafted, not reviewed)" in status.stdout
    assert "(drafted, not reviewed)" in _cli("train", "--db", url, "--list", env=env).stdout

    reviewed = _cli("glossary", "review", str(out), env=env)
    assert reviewed.returncode == 0 and "marked reviewed" in reviewed.stdout
    assert "drafted: false  # reviewed by ops.lead on " in (out / "rules.yaml").read_text()
    assert _cli("train", "--db", url, "--glossary", str(out), env=env).returncode == 0
    status = _cli("train", "--db", url, "--status", env=env).stdout
    assert "answers from version 2" in status and "drafted" not in status

    exported = _cli("audit", "export", "--format", "jsonl", "--out",
                    str(tmp_path / "audit.jsonl"), env=env)
    assert exported.returncode == 0, exported.stderr
    actions = [json.loads(line)["question"] for line in
               (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert f"glossary drafted from {url} into {out}" in actions
    assert f"glossary {out} marked reviewed" in actions


def test_an_answer_piped_into_head_ends_quietly(trained_data: Path) -> None:
    """`python -m copilot ask ... | head -1`: the reader closes the pipe early; the command
    ends with status 0 and no traceback."""
    env = {**os.environ, "OPSCOPILOT_DATA_DIR": str(trained_data),
           "OPSCOPILOT_AS_OF": "2026-11-20"}
    process = subprocess.Popen(
        [sys.executable, "-m", "copilot", "ask", "list failed settlements this year"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()  # as `head -1` does
    errors = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0, errors
    assert first.startswith(b"Listing settlements") and "Traceback" not in errors

"""Issue 14, drill 1, on real files: every way the drill broke the audit log unseen is now
found, by `audit verify` (exit 1, naming what is wrong) and by the running app's next append
(AuditError: the answer is withheld). Tampering is done the way an intruder would, with
sqlite3, psycopg and the file system, never through the log's own code."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from pgserver import PostgresServer

from copilot.core.audit import (
    AuditError,
    AuditLog,
    AuditRecord,
    Protection,
    chain_hash,
    keyed_hash,
    result_sha256,
)
from copilot.core.audit.anchor import FolderAnchor
from copilot.core.audit.schema import record_from_row

ROOT = Path(__file__).resolve().parents[1]
N = 20


def _record(i: int) -> AuditRecord:
    return AuditRecord(channel="ask", outcome="answered", user="n.singh",
                       question=f"fails by counterparty #{i}", sql_run="SELECT 1",
                       tables=("settlements",), row_count=i, duration_ms=1.0 + i,
                       result_sha256=result_sha256(["n"], [[i]]))


def _filled(folder: Path, n: int = N) -> AuditLog:
    log = AuditLog(f"sqlite:///{folder / 'audit.db'}")
    for i in range(n):
        log.append(_record(i))
    return log


def _reader(folder: Path) -> AuditLog:
    """What `audit verify` opens: nothing created, even when the file is missing."""
    return AuditLog(f"sqlite:///{folder / 'audit.db'}", create=False)


def _checkpoints(folder: Path) -> Path:
    return folder / "audit-checkpoints" / "checkpoints.jsonl"


def _cli_verify(folder: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "OPSCOPILOT_DATA_DIR": str(folder),
           "OPSCOPILOT_ENV_FILE": str(folder / "none")}
    return subprocess.run([sys.executable, "-m", "copilot", "audit", "verify"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


def _rewrite_from(path: Path, first: int, digest: object) -> None:
    """Change record `first` and recompute every later hash with `digest(prev, record)`,
    as someone with write access to the file would."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    conn.execute("UPDATE audit_log SET question = 'nothing to see' WHERE id = ?", (first,))
    previous = conn.execute("SELECT record_hash FROM audit_log WHERE id = ?",
                            (first - 1,)).fetchone()[0]
    for row in conn.execute("SELECT * FROM audit_log WHERE id >= ? ORDER BY id",
                            (first,)).fetchall():
        new = digest(previous, record_from_row(row))  # type: ignore[operator]
        conn.execute("UPDATE audit_log SET prev_hash = ?, record_hash = ? WHERE id = ?",
                     (previous, new, row["id"]))
        previous = new
    conn.commit()
    conn.close()


def test_untouched_log_verifies_up_to_its_checkpoint(tmp_path: Path) -> None:
    _filled(tmp_path)
    result = _reader(tmp_path).verify()
    assert result.ok and result.records == N and result.checkpoint == N
    assert result.summary() == (f"ok: {N} records, the chain holds up to the signed "
                                f"checkpoint at record {N}")
    lines = _checkpoints(tmp_path).read_text().splitlines()
    assert len(lines) == N and json.loads(lines[-1])["records"] == N


def test_keys_are_private_files_and_never_in_the_database(tmp_path: Path) -> None:
    _filled(tmp_path, 3)
    keys = tmp_path / "audit-keys"
    assert oct(keys.stat().st_mode & 0o777) == "0o700"
    for name in ("chain.key", "checkpoint-signing.pem", "checkpoint-verify.pem"):
        assert oct((keys / name).stat().st_mode & 0o777) == "0o600", name
    chain_key = (keys / "chain.key").read_text().strip()
    signing = (keys / "checkpoint-signing.pem").read_text().splitlines()[1]
    for stored in (tmp_path / "audit.db", tmp_path / "audit.db-wal", _checkpoints(tmp_path)):
        if stored.exists():
            content = stored.read_bytes()
            assert chain_key.encode() not in content and bytes.fromhex(chain_key) not in content
            assert signing.encode() not in content


def test_drill_last_records_deleted(tmp_path: Path) -> None:
    log = _filled(tmp_path)
    with sqlite3.connect(tmp_path / "audit.db") as conn:
        conn.execute("DELETE FROM audit_log WHERE id > 15")
    result = _reader(tmp_path).verify()
    assert not result.ok and result.records == 15 and result.broken_id is None
    assert "the chain holds 15 records but the newest signed checkpoint" in result.reason
    assert result.reason.endswith(f"shows {N}: records 16 to {N} were removed")
    with pytest.raises(AuditError, match="holds 15 records but its newest checkpoint shows 20"):
        log.append(_record(99))
    assert len(_checkpoints(tmp_path).read_text().splitlines()) == N  # nothing added


def test_drill_table_emptied(tmp_path: Path) -> None:
    log = _filled(tmp_path)
    with sqlite3.connect(tmp_path / "audit.db") as conn:
        conn.execute("DELETE FROM audit_log")
    result = _reader(tmp_path).verify()
    assert not result.ok and result.records == 0
    assert result.reason.startswith("the audit table is empty but the newest signed checkpoint")
    assert result.reason.endswith(f"shows {N}: all {N} were removed")
    with pytest.raises(AuditError, match="records were removed"):
        log.append(_record(99))


def test_drill_file_deleted_verify_creates_nothing(tmp_path: Path) -> None:
    _filled(tmp_path).dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp_path / 'audit.db'}{suffix}").unlink(missing_ok=True)
    result = _reader(tmp_path).verify()
    assert not result.ok
    assert result.reason == (f"the audit database {tmp_path / 'audit.db'} is missing; the "
                             f"checkpoints show {N} records")
    assert not (tmp_path / "audit.db").exists()
    # Nor does the app start a new empty log where the checkpoints show one.
    with pytest.raises(AuditError, match=f"is missing; the checkpoints show {N} records; "
                                         "answers are withheld"):
        AuditLog(f"sqlite:///{tmp_path / 'audit.db'}")
    assert not (tmp_path / "audit.db").exists()


@pytest.mark.parametrize("scheme", ["plain SHA-256", "HMAC under a wrong key"])
def test_drill_record_changed_and_later_hashes_recomputed(tmp_path: Path, scheme: str) -> None:
    _filled(tmp_path)
    wrong_key = os.urandom(32)
    digest = chain_hash if scheme == "plain SHA-256" else (
        lambda previous, record: keyed_hash(wrong_key, previous, record))
    _rewrite_from(tmp_path / "audit.db", 7, digest)
    result = _reader(tmp_path).verify()
    assert not result.ok and result.broken_id == 7
    assert result.summary() == ("broken: record 7: its content was changed (its keyed hash "
                                "does not hold)")


def test_drill_rewrite_with_the_chain_key_is_caught_by_the_checkpoints(tmp_path: Path) -> None:
    # Someone who stole the chain key but not the signing key: every hash holds, the heads
    # the checkpoints signed do not.
    _filled(tmp_path)
    key = bytes.fromhex((tmp_path / "audit-keys" / "chain.key").read_text().strip())
    _rewrite_from(tmp_path / "audit.db", 7,
                  lambda previous, record: keyed_hash(key, previous, record))
    result = _reader(tmp_path).verify()
    assert not result.ok and result.broken_id == 7
    assert result.reason == (f"it differs from the signed checkpoint line 7 of "
                             f"{_checkpoints(tmp_path)}: it was rewritten and the hashes "
                             "after it recomputed")


def test_drill_newest_checkpoint_tampered(tmp_path: Path) -> None:
    log = _filled(tmp_path)
    path = _checkpoints(tmp_path)
    lines = path.read_text().splitlines()
    forged = json.loads(lines[-1])
    forged["records"] = N + 5  # claim records that were never written
    lines[-1] = json.dumps(forged, sort_keys=True, separators=(",", ":"))
    path.write_text("\n".join(lines) + "\n")
    result = _reader(tmp_path).verify()
    assert not result.ok
    assert result.reason == (f"the newest checkpoint in {path} does not hold: its signature "
                             f"is not valid (it claims {N + 5} records)")
    with pytest.raises(AuditError, match="is not this log's"):
        log.append(_record(99))


def test_drill_earlier_checkpoint_tampered(tmp_path: Path) -> None:
    _filled(tmp_path)
    path = _checkpoints(tmp_path)
    lines = path.read_text().splitlines()
    changed = json.loads(lines[9])
    changed["ts"] = "2020-01-01T00:00:00.000000Z"  # harmless-looking, still an edit
    lines[9] = json.dumps(changed, sort_keys=True, separators=(",", ":"))
    path.write_text("\n".join(lines) + "\n")
    result = _reader(tmp_path).verify()
    assert not result.ok
    assert result.reason == (f"checkpoint line 11 of {path} does not follow the line before "
                             "it: a checkpoint before it was changed or removed")


def test_drill_checkpoints_deleted(tmp_path: Path) -> None:
    log = _filled(tmp_path)
    _checkpoints(tmp_path).unlink()
    result = _reader(tmp_path).verify()
    assert not result.ok and result.reason.startswith(
        f"records 1 to {N} have keyed hashes but no checkpoint vouches for them")
    with pytest.raises(AuditError, match=r"checkpoints in .* are missing"):
        log.append(_record(99))
    assert not _checkpoints(tmp_path).exists()  # no new file quietly started


def test_drill_scheme_marker_moved(tmp_path: Path) -> None:
    # Moving "keyed from" past the end would let plain SHA-256 pass for every record.
    _filled(tmp_path)
    with sqlite3.connect(tmp_path / "audit.db") as conn:
        conn.execute("UPDATE audit_meta SET value = '1000' WHERE key = 'keyed_from'")
    result = _reader(tmp_path).verify()
    assert not result.ok and "its scheme marker was changed" in result.reason


def test_drill_file_unlinked_while_open_writes_nothing(tmp_path: Path) -> None:
    log = _filled(tmp_path, 3)
    db, wal = tmp_path / "audit.db", tmp_path / "audit.db-wal"
    kept = tmp_path / "kept.db"
    os.link(db, kept)  # keeps the deleted file's inode to look into afterwards
    before = {path: path.read_bytes() for path in (kept, wal, _checkpoints(tmp_path))}
    db.unlink()
    with pytest.raises(AuditError) as raised:
        log.append(_record(99))
    assert str(raised.value) == (f"The audit database {db} was deleted or replaced; answers "
                                 "are withheld until it is restored.")
    assert {path: path.read_bytes() for path in before} == before
    assert not db.exists()  # and no new empty database in its place


def test_drill_file_replaced_by_another_valid_log(tmp_path: Path) -> None:
    log = _filled(tmp_path, 5)
    other = tmp_path / "elsewhere"
    other.mkdir()
    _filled(other, 5).dispose()  # closed: its WAL is folded into the file
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp_path / 'audit.db'}{suffix}").unlink(missing_ok=True)
    shutil.copy(other / "audit.db", tmp_path / "audit.db")
    with pytest.raises(AuditError, match="was deleted or replaced"):
        log.append(_record(99))
    result = _reader(tmp_path).verify()
    assert not result.ok and "is not the one the checkpoints in" in result.reason
    assert "(5 records)" in result.reason


def test_record_committed_without_its_checkpoint_is_picked_up(tmp_path: Path) -> None:
    # A process stopped between commit and checkpoint: the record is simply not yet vouched
    # for, and the next append's checkpoint covers it.
    log = _filled(tmp_path, 5)
    path = _checkpoints(tmp_path)
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))
    assert _reader(tmp_path).verify().summary() == (
        "ok: 5 records, the chain holds up to the signed checkpoint at record 4 "
        "(records 5 to 5 came after it)")
    log.append(_record(5))
    result = _reader(tmp_path).verify()
    assert result.ok and result.checkpoint == 6


def test_old_plain_sha256_log_keeps_verifying_and_is_keyed_from_then_on(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    columns = ["id", *AuditRecord.field_names(), "prev_hash", "record_hash"]
    with sqlite3.connect(db) as conn:  # the table as the previous version created it
        conn.execute(f"CREATE TABLE audit_log ({', '.join(columns)})")
        previous = "0" * 64
        for i in range(1, 4):
            record = _record(i)
            digest = chain_hash(previous, record)
            values = {**{n: getattr(record, n) for n in AuditRecord.field_names()}, "id": i,
                      "tables": json.dumps(list(record.tables)), "prev_hash": previous,
                      "record_hash": digest}
            conn.execute(f"INSERT INTO audit_log VALUES ({', '.join('?' * len(columns))})",
                         [values[c] for c in columns])
            previous = digest
    assert _reader(tmp_path).verify().summary() == (
        "ok: 3 records, the chain holds (no checkpoint yet); plain SHA-256 hashes, written "
        "before keyed hashes")
    log = AuditLog(f"sqlite:///{db}")
    log.append(_record(4))
    log.append(_record(5))
    assert _reader(tmp_path).verify().summary() == (
        "ok: 5 records, the chain holds up to the signed checkpoint at record 5; records 1 to "
        "3 have plain SHA-256 hashes, written before keyed hashes")
    # The old records are still guarded: the first keyed hash covers the last plain one.
    _rewrite_from(db, 2, chain_hash)
    result = _reader(tmp_path).verify()
    assert not result.ok and result.broken_id == 4


def test_public_key_alone_checks_the_checkpoints(tmp_path: Path) -> None:
    _filled(tmp_path)
    auditor = tmp_path / "auditor-keys"
    auditor.mkdir()
    shutil.copy(tmp_path / "audit-keys" / "checkpoint-verify.pem", auditor)
    seen = Protection(auditor, (FolderAnchor(tmp_path / "audit-checkpoints"),))
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    result = AuditLog(url, seen, create=False).verify()
    assert result.ok and not result.keyed_checked
    assert "keyed hashes not checked (no chain key), checkpoints checked" in result.summary()
    _rewrite_from(tmp_path / "audit.db", 12, chain_hash)  # without a key, still caught
    result = AuditLog(url, seen, create=False).verify()
    assert not result.ok and result.broken_id == 12 and "rewritten" in result.reason


def test_two_processes_appending_keep_one_chain_and_ordered_checkpoints(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    AuditLog(url).dispose()
    script = ("import sys; from copilot.core.audit import AuditLog, AuditRecord; "
              "log = AuditLog(sys.argv[1]); "
              "[log.append(AuditRecord(channel='cli', outcome='recorded', user=sys.argv[2], "
              "question=str(i))) for i in range(40)]")
    writers = [subprocess.Popen([sys.executable, "-c", script, url, name], cwd=ROOT)
               for name in ("a", "b")]
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0]
    result = _reader(tmp_path).verify()
    assert result.ok and result.records == 80 and result.checkpoint == 80
    counts = [json.loads(line)["records"] for line in _checkpoints(tmp_path).open()]
    assert counts == list(range(1, 81))


@pytest.mark.parametrize(
    ("drill", "code", "words"),
    [
        ("none", 0, f"ok: {N} records, the chain holds up to the signed checkpoint at record {N}"),
        ("truncate", 1, f"records 16 to {N} were removed"),
        ("empty", 1, "the audit table is empty"),
        ("delete file", 1, f"audit.db is missing; the checkpoints show {N} records"),
        ("rewrite", 1, "broken: record 7: its content was changed"),
        ("forge checkpoint", 1, "its signature is not valid"),
    ],
)
def test_cli_verify_exit_status_per_drill(tmp_path: Path, drill: str, code: int,
                                          words: str) -> None:
    _filled(tmp_path).dispose()
    db = tmp_path / "audit.db"
    if drill in ("truncate", "empty"):
        with sqlite3.connect(db) as conn:
            conn.execute("DELETE FROM audit_log" + (" WHERE id > 15" if drill == "truncate"
                                                    else ""))
    elif drill == "delete file":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    elif drill == "rewrite":
        _rewrite_from(db, 7, chain_hash)
    elif drill == "forge checkpoint":
        path = _checkpoints(tmp_path)
        path.write_text(path.read_text().replace(f'"records":{N},', f'"records":{N + 1},'))
    done = _cli_verify(tmp_path)
    assert done.returncode == code, done.stdout + done.stderr
    assert words in done.stdout and done.stdout.startswith("ok: " if code == 0 else "broken: ")
    assert db.exists() == (drill != "delete file")  # verify never creates the database


def test_cli_verify_of_a_fresh_install_is_ok_and_creates_nothing(tmp_path: Path) -> None:
    done = _cli_verify(tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == (
        "ok: 0 records, nothing has been recorded yet")
    assert list(tmp_path.iterdir()) == []


def _pg_admin(postgres: PostgresServer, database: str) -> psycopg.Connection:
    return psycopg.connect(f"host=127.0.0.1 port={postgres.port} user={postgres.superuser} "
                           f"dbname={database}", autocommit=True)


def test_postgres_recreated_tables_are_detected(postgres: PostgresServer,
                                                tmp_path: Path) -> None:
    with _pg_admin(postgres, "postgres") as admin:
        admin.execute("CREATE DATABASE audit_recreated")
    url = postgres.url("audit_recreated")
    log = AuditLog(url, Protection.in_folder(tmp_path))
    for i in range(4):
        log.append(_record(i))
    assert log.verify().ok and log.log_id
    # Dropped and recreated by another opening: a new log id.
    with _pg_admin(postgres, "audit_recreated") as conn:
        conn.execute("DROP TABLE audit_log, audit_meta")
    elsewhere = tmp_path / "elsewhere"
    fresh = AuditLog(url, Protection.in_folder(elsewhere))
    assert fresh.log_id != log.log_id
    with pytest.raises(AuditError, match="was deleted or replaced"):
        log.append(_record(99))
    # And the checkpoints of the first log see that the database is not theirs any more.
    result = AuditLog(url, Protection.in_folder(tmp_path), create=False).verify()
    assert not result.ok and "is not the one the checkpoints" in result.reason
    fresh.dispose()
    log.dispose()


def test_postgres_audit_table_alone_recreated_is_detected(postgres: PostgresServer,
                                                          tmp_path: Path) -> None:
    with _pg_admin(postgres, "postgres") as admin:
        admin.execute("CREATE DATABASE audit_table_recreated")
    url = postgres.url("audit_table_recreated")
    log = AuditLog(url, Protection.in_folder(tmp_path))
    for i in range(4):
        log.append(_record(i))
    with _pg_admin(postgres, "audit_table_recreated") as conn:
        conn.execute("CREATE TABLE audit_copy AS TABLE audit_log WITH NO DATA")
        conn.execute("DROP TABLE audit_log")
        conn.execute("ALTER TABLE audit_copy RENAME TO audit_log")
    with pytest.raises(AuditError, match="holds 0 records but its newest checkpoint shows 4"):
        log.append(_record(99))
    result = log.verify()
    assert not result.ok and "the audit table is empty" in result.reason
    log.dispose()


def test_checkpoint_lines_chain_by_digest(tmp_path: Path) -> None:
    _filled(tmp_path, 3)
    lines = _checkpoints(tmp_path).read_text().splitlines()
    assert json.loads(lines[0])["prev"] == ""
    for before, after in itertools.pairwise(lines):
        assert json.loads(after)["prev"] == hashlib.sha256(before.encode()).hexdigest()

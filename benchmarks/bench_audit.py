"""Time the audit trail: `python benchmarks/bench_audit.py [--questions N] [--records N]`.

Prints the audit overhead per question and appends per second: one synchronous append on
SQLite as Services.ask does it (keyed hash, the checks against the newest checkpoint, a
signed checkpoint appended and fsynced to the checkpoint folder); the same with the
checkpoint kept in memory instead (what the checkpoint file costs); and the floor, an
unkeyed insert without checkpoints in bare sqlite3 (no SQLAlchemy). Then fills a log of `--records`
records in bulk, each with its keyed hash and its signed checkpoint line as the app writes
them, and times `verify` over it and a CSV export of it.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from latency import latency_line  # benchmarks/ is on sys.path when run as a script

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=500, help="appends to time")
    parser.add_argument("--records", type=int, default=1_000_000,
                        help="records to verify and export")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))  # run as a script from a checkout, no install needed
    from copilot.core.audit import (
        AuditFilter,
        AuditLog,
        AuditRecord,
        Protection,
        chain_hash,
        result_sha256,
    )
    from copilot.core.audit.export import export_records

    rows = [("CITI", 12), ("GOLDMAN", 19), ("BARCLAYS", 15)]

    def question(i: int) -> AuditRecord:
        return AuditRecord(
            channel="ask", outcome="answered", user="n.singh",
            question=f"fails by counterparty this month #{i}",
            sql_generated="SELECT ...", sql_run="SELECT ... LIMIT 5001", engine="parser",
            profile_version="demo-1", tables=("settlements", "trades", "counterparties"),
            row_count=3, result_sha256=result_sha256(["short_name", "count"], rows),
            duration_ms=8.2, app_version="0.1.0")

    with tempfile.TemporaryDirectory(prefix="bench-audit-") as folder:
        root = Path(folder)
        (root / "keyed").mkdir()
        log = AuditLog(f"sqlite:///{root / 'keyed' / 'audit.db'}")
        keyed = _timed(lambda i: log.append(question(i)), args.questions)
        log.dispose()
        (root / "memory").mkdir()
        in_memory = AuditLog(f"sqlite:///{root / 'memory' / 'audit.db'}",
                             Protection(root / "memory" / "keys", (_MemoryAnchor(),)))
        memory = _timed(lambda i: in_memory.append(question(i)), args.questions)
        in_memory.dispose()
        old = _old_append(root / "old.db", chain_hash, args.questions, question)

        (root / "big").mkdir()
        big = root / "big" / "audit.db"
        started = time.perf_counter()
        _fill(big, args.records)
        fill_s = time.perf_counter() - started
        big_log = AuditLog(f"sqlite:///{big}", create=False)
        started = time.perf_counter()
        verdict = big_log.verify()
        verify_s = time.perf_counter() - started
        started = time.perf_counter()
        count = export_records(AuditLog(f"sqlite:///{big}"), "csv", root / "export.csv",
                               AuditFilter(), user="bench")
        export_s = time.perf_counter() - started
        size = (root / "export.csv").stat().st_size / 1e6
        trail = (big.parent / "audit-checkpoints" / "checkpoints.jsonl").stat().st_size / 1e6

    print("audit benchmark (SQLite)")
    for label, times in (("append + checkpoint file", keyed), ("append, checkpoint in RAM", memory),
                         ("floor: bare sqlite3 insert", old)):
        print(latency_line(label, times, 26) + f"  {1000 * len(times) / sum(times):6.0f} "
              "appends/s")
    print("  (target: p50 < 5 ms, and well over 50 appends/s with checkpoints)")
    print(f"{args.records:,} records with a checkpoint each ({trail:.0f} MB of checkpoints): "
          f"filled in {fill_s:.1f} s, verified in {verify_s:.1f} s "
          f"({args.records / verify_s:,.0f} records/s, {verdict.summary()[:2]}), exported "
          f"{count:,} to CSV in {export_s:.1f} s ({size:.0f} MB; target < 60 s)")
    print(json.dumps({"appends_per_s_checkpointed": round(1000 * len(keyed) / sum(keyed)),
                      "appends_per_s_checkpoint_in_memory": round(
                          1000 * len(memory) / sum(memory)),
                      "appends_per_s_bare_sqlite3_unkeyed": round(1000 * len(old) / sum(old)),
                      "verify_records_per_s": round(args.records / verify_s)}))
    return 0 if verdict.ok else 1


class _MemoryAnchor:
    """An anchor keeping its lines in a list: the append without the checkpoint file."""

    where = "memory"

    def __init__(self) -> None:
        self._lines: list[str] = []

    def append(self, line: str) -> None:
        self._lines.append(line)

    def lines(self) -> list[str]:
        return list(self._lines)

    def last(self) -> str | None:
        return self._lines[-1] if self._lines else None


def _timed(step: object, n: int) -> list[float]:
    times = []
    for i in range(n):
        started = time.perf_counter()
        step(i)  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return times


def _old_append(path: Path, chain_hash: object, n: int, question: object) -> list[float]:
    """An unkeyed append without checkpoints in bare sqlite3: the floor under any append
    (the SQLAlchemy append before issue 14 took about 0.4 ms more than this)."""
    from sqlalchemy import create_engine

    from copilot.core.audit.schema import RECORD_FIELDS, metadata

    metadata.create_all(create_engine(f"sqlite:///{path}"))
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    columns = [*RECORD_FIELDS, "prev_hash", "record_hash"]
    insert = (f"INSERT INTO audit_log ({', '.join(columns)}) VALUES "
              f"({', '.join('?' * len(columns))})")

    def append(i: int) -> None:
        record = question(i)  # type: ignore[operator]
        conn.execute("BEGIN IMMEDIATE")
        last = conn.execute("SELECT record_hash FROM audit_log ORDER BY id DESC LIMIT 1"
                            ).fetchone()
        previous = last[0] if last else "0" * 64
        values = {**{name: getattr(record, name) for name in RECORD_FIELDS},
                  "tables": json.dumps(list(record.tables)), "prev_hash": previous,
                  "record_hash": chain_hash(previous, record)}  # type: ignore[operator]
        conn.execute(insert, [values[c] for c in columns])
        conn.execute("COMMIT")

    try:
        return _timed(append, n)
    finally:
        conn.close()


def _fill(path: Path, n: int) -> None:
    """A log of `n` records as the app writes it (keyed hashes, one signed checkpoint line
    per record), written in bulk."""
    from copilot.core.audit import AuditLog, AuditRecord, keyed_hash
    from copilot.core.audit.checkpoint import Checkpoint
    from copilot.core.audit.keys import load_keys
    from copilot.core.audit.record import GENESIS
    from copilot.core.audit.schema import RECORD_FIELDS

    log = AuditLog(f"sqlite:///{path}")  # creates the tables, the log id and the keys
    log_id = log.log_id
    log.dispose()
    keys = load_keys(path.parent / "audit-keys")
    assert keys is not None and keys.chain_key is not None and log_id is not None
    columns = ["id", *RECORD_FIELDS, "prev_hash", "record_hash"]
    insert = (f"INSERT INTO audit_log ({', '.join(columns)}) VALUES "
              f"({', '.join('?' * len(columns))})")
    trail = path.parent / "audit-checkpoints"
    trail.mkdir()
    conn = sqlite3.connect(path)
    previous, prev_line, batch = GENESIS, "", []
    with (trail / "checkpoints.jsonl").open("w") as lines:
        for i in range(1, n + 1):
            record = AuditRecord(channel="ask", outcome="answered", user=f"analyst{i % 7}",
                                 question=f"question {i}", sql_run="SELECT 1", row_count=i,
                                 ts=f"2026-11-{1 + i % 20:02d}T09:00:00.000000Z")
            digest = keyed_hash(keys.chain_key, previous, record)
            values = {**{name: getattr(record, name) for name in RECORD_FIELDS}, "id": i,
                      "tables": "[]", "prev_hash": previous, "record_hash": digest}
            batch.append([values[c] for c in columns])
            checkpoint = Checkpoint.signed(keys, log=log_id, records=i, head=digest,
                                           keyed_from=1, prev=prev_line)
            lines.write(checkpoint.line() + "\n")
            previous, prev_line = digest, checkpoint.digest()
            if len(batch) == 50_000:
                conn.executemany(insert, batch)
                batch.clear()
    if batch:
        conn.executemany(insert, batch)
    conn.commit()
    conn.close()


if __name__ == "__main__":
    sys.exit(main())

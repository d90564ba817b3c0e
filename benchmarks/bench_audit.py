"""Time the audit trail: `python benchmarks/bench_audit.py [--questions N] [--records N]`.

Prints the audit overhead per question (one synchronous, hash-chained append on SQLite, as
Services.ask does it), and the time to export a log of 1,000,000 records to CSV (the log
is filled with a valid chain in bulk first, then verified).
"""

from __future__ import annotations

import argparse
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
    parser.add_argument("--records", type=int, default=1_000_000, help="records to export")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))  # run as a script from a checkout, no install needed
    from copilot.audit import AuditFilter, AuditLog, AuditRecord, chain_hash, result_sha256
    from copilot.audit.export import export_records
    from copilot.audit.log import audit_table
    from copilot.audit.record import GENESIS

    rows = [("CITI", 12), ("GOLDMAN", 19), ("BARCLAYS", 15)]
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as folder:
        log = AuditLog(f"sqlite:///{Path(folder) / 'audit.db'}")
        overhead = []
        for i in range(args.questions):
            started = time.perf_counter()
            log.append(AuditRecord(
                channel="ask", outcome="answered", user="n.singh",
                question=f"fails by counterparty this month #{i}",
                sql_generated="SELECT ...", sql_run="SELECT ... LIMIT 5001", engine="parser",
                profile_version="demo-1", tables=("settlements", "trades", "counterparties"),
                row_count=3, result_sha256=result_sha256(["short_name", "count"], rows),
                duration_ms=8.2, app_version="0.1.0"))
            overhead.append((time.perf_counter() - started) * 1000)

        big = Path(folder) / "big.db"
        AuditLog(f"sqlite:///{big}").dispose()  # creates the table
        started = time.perf_counter()
        previous = GENESIS
        columns = [c.name for c in audit_table.columns if c.name != "id"]
        conn = sqlite3.connect(big)
        batch = []
        for i in range(args.records):
            record = AuditRecord(channel="ask", outcome="answered", user=f"analyst{i % 7}",
                                 question=f"question {i}", sql_run="SELECT 1", row_count=i,
                                 ts=f"2026-11-{1 + i % 20:02d}T09:00:00.000000Z")
            digest = chain_hash(previous, record)
            values = {**{n: getattr(record, n) for n in AuditRecord.field_names()},
                      "tables": "[]", "prev_hash": previous, "record_hash": digest}
            batch.append(tuple(values[c] for c in columns))
            previous = digest
            if len(batch) == 50_000:
                conn.executemany(f"INSERT INTO audit_log ({', '.join(columns)}) VALUES "
                                 f"({', '.join('?' * len(columns))})", batch)
                batch.clear()
        if batch:
            conn.executemany(f"INSERT INTO audit_log ({', '.join(columns)}) VALUES "
                             f"({', '.join('?' * len(columns))})", batch)
        conn.commit()
        conn.close()
        fill_s = time.perf_counter() - started
        big_log = AuditLog(f"sqlite:///{big}")
        started = time.perf_counter()
        verdict = big_log.verify()
        verify_s = time.perf_counter() - started
        started = time.perf_counter()
        count = export_records(big_log, "csv", Path(folder) / "export.csv", AuditFilter(),
                               user="bench")
        export_s = time.perf_counter() - started
        size = (Path(folder) / "export.csv").stat().st_size / 1e6

    print("audit benchmark (SQLite)")
    print(latency_line("append per question", overhead, 22) + "  (target p50 < 5 ms)")
    print(f"{args.records:,} records: filled in {fill_s:.1f} s, verified in {verify_s:.1f} s "
          f"({'ok' if verdict.ok else 'BROKEN'}), exported {count:,} to CSV in {export_s:.1f} s "
          f"({size:.0f} MB; target < 60 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The append-only, hash-chained audit log, in its own database (SQLite or PostgreSQL).

`append` writes synchronously and returns only once the record is committed: callers show an
answer only after it returns. Each row stores the previous row's hash and its own, so
`verify` can name the first record that was changed, removed or inserted. On PostgreSQL a
trigger rejects UPDATE, DELETE and TRUNCATE of the table outright.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    select,
    text,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from copilot.audit.record import GENESIS, AuditRecord, chain_hash
from copilot.errors import CopilotError

__all__ = ["AuditError", "AuditFilter", "AuditLog", "VerifyResult"]

_metadata = MetaData()
audit_table = Table(
    "audit_log",
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts", String(32), nullable=False),
    Column("user", String(128), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("question", Text, nullable=False),
    Column("sql_generated", Text, nullable=False),
    Column("sql_run", Text, nullable=False),
    Column("engine", String(16), nullable=False),
    Column("profile_version", String(64), nullable=False),
    Column("tables", Text, nullable=False),
    Column("row_count", Integer),
    Column("result_sha256", String(64), nullable=False),
    Column("duration_ms", Float),
    Column("reason", Text, nullable=False),
    Column("app_version", String(32), nullable=False),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("record_hash", String(64), nullable=False),
    Index("ix_audit_ts", "ts"),
)
_RECORD_FIELDS = AuditRecord.field_names()

_PG_GUARD = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION USING MESSAGE = 'the audit log is append-only: ' || TG_OP || ' refused';
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
"""


class AuditError(CopilotError):
    """The audit log could not be written or read; an answer must not be shown then."""


@dataclass(frozen=True)
class AuditFilter:
    """Which records to list or export (all fields optional; dates are YYYY-MM-DD, UTC)."""

    since: str | None = None
    until: str | None = None
    user: str | None = None
    channel: str | None = None
    outcome: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class VerifyResult:
    """The chain's verdict: how many records were checked and the first broken one."""

    ok: bool
    records: int
    broken_id: int | None = None
    reason: str = ""


class AuditLog:
    """The audit database. Thread-safe: appends are serialised within the process, and by
    the database's own write lock across processes."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        try:
            self._engine: Engine = create_engine(parsed)
            if self.dialect == "sqlite":
                event.listen(self._engine, "connect", _sqlite_pragmas)
            _metadata.create_all(self._engine)
            if self.dialect == "postgresql":
                with self._engine.begin() as conn:
                    conn.exec_driver_sql(_PG_GUARD)
        except SQLAlchemyError as exc:
            raise AuditError(f"The audit database cannot be opened: {exc.orig or exc}") from None
        self._lock = threading.Lock()

    def append(self, record: AuditRecord) -> int:
        """Commit one record to the chain; its id. AuditError when it cannot be written."""
        row = {name: getattr(record, name) for name in _RECORD_FIELDS}
        row["tables"] = json.dumps(list(record.tables))
        try:
            with self._lock, self._engine.connect() as conn:
                # Two writers must not both read the same "previous hash": take the
                # database's write lock before reading it.
                if self.dialect == "sqlite":
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                elif self.dialect == "postgresql":
                    conn.execute(text("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE"))
                previous = conn.execute(
                    select(audit_table.c.record_hash).order_by(audit_table.c.id.desc()).limit(1)
                ).scalar() or GENESIS
                row["prev_hash"] = previous
                row["record_hash"] = chain_hash(previous, record)
                new_id = conn.execute(audit_table.insert().values(**row)).inserted_primary_key[0]
                conn.commit()
                return int(new_id)
        except SQLAlchemyError as exc:
            raise AuditError(f"The audit record could not be written: {exc.orig or exc}") from None

    def records(self, where: AuditFilter | None = None, *, limit: int | None = None,
                batch: int = 5000) -> Iterator[tuple[int, AuditRecord]]:
        """Records in chain order (id ascending), filtered, streamed in batches."""
        query = select(audit_table).order_by(audit_table.c.id)
        for condition in _conditions(where or AuditFilter()):
            query = query.where(condition)
        if limit:
            query = query.limit(limit)
        with self._engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
            for row in result.mappings():
                yield row["id"], _record(row)

    def rows(self, where: AuditFilter | None = None, batch: int = 20_000
             ) -> Iterator[tuple[object, ...]]:
        """Raw rows (id, then the record's fields) in chain order: the fast path exports
        take, without building a record per row."""
        columns = [audit_table.c.id, *(audit_table.c[name] for name in _RECORD_FIELDS)]
        query = select(*columns).order_by(audit_table.c.id)
        for condition in _conditions(where or AuditFilter()):
            query = query.where(condition)
        with self._engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
            for row in result:
                yield tuple(row)

    def verify(self) -> VerifyResult:
        """Walk the chain from the first record; name the first whose hash does not hold."""
        previous = GENESIS
        count = 0
        expected_id = None
        with self._engine.connect() as conn:
            rows = conn.execution_options(stream_results=True, yield_per=5000).execute(
                select(audit_table).order_by(audit_table.c.id)).mappings()
            for row in rows:
                count += 1
                if expected_id is not None and row["id"] != expected_id:
                    return VerifyResult(False, count, row["id"],
                                        f"records {expected_id} to {row['id'] - 1} are missing")
                if row["prev_hash"] != previous:
                    return VerifyResult(False, count, row["id"],
                                        "its link to the previous record does not match")
                if chain_hash(previous, _record(row)) != row["record_hash"]:
                    return VerifyResult(False, count, row["id"], "its content was changed")
                previous = row["record_hash"]
                expected_id = row["id"] + 1
        return VerifyResult(True, count)

    def dispose(self) -> None:
        self._engine.dispose()


def _record(row: object) -> AuditRecord:
    data = {name: row[name] for name in _RECORD_FIELDS}  # type: ignore[index]
    data["tables"] = tuple(json.loads(data["tables"] or "[]"))
    return AuditRecord(**data)


def _conditions(where: AuditFilter) -> list:
    c = audit_table.c
    found = []
    if where.since:
        found.append(c.ts >= where.since)
    if where.until:
        found.append(c.ts < _next_day(where.until))
    for column, value in ((c.user, where.user), (c.channel, where.channel),
                          (c.outcome, where.outcome)):
        if value:
            found.append(column == value)
    if where.text:
        pattern = f"%{where.text}%"
        found.append(c.question.ilike(pattern) | c.sql_run.ilike(pattern)
                     | c.reason.ilike(pattern))
    return found


def _next_day(day: str) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(day[:10]) + timedelta(days=1)).isoformat()


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # Transactions are begun explicitly (BEGIN IMMEDIATE in append); wait for the write
    # lock rather than fail, and let readers (the Audit page, exports) read while one writes.
    dbapi_connection.isolation_level = None  # type: ignore[attr-defined]
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()

"""The audit database's tables: the records, and a small table saying which log this is.

`audit_meta` holds the log id (random, made when the log was first opened by a version that
keys its chain) and the id of the first record hashed with the chain key; records before it
are the plain SHA-256 chain of older versions. Neither value is trusted on its own: every
checkpoint repeats both, signed.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    inspect,
    select,
)
from sqlalchemy.engine import Connection

from copilot.core.audit.record import AuditRecord

__all__ = ["RECORD_FIELDS", "SCHEME", "LogMeta", "audit_meta", "audit_table", "metadata",
           "pg_guard", "read_meta", "record_from_row", "write_meta"]

SCHEME = "hmac-sha256"

metadata = MetaData()
audit_table = Table(
    "audit_log",
    metadata,
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
audit_meta = Table(
    "audit_meta",
    metadata,
    Column("key", String(32), primary_key=True),
    Column("value", Text, nullable=False),
)

RECORD_FIELDS = AuditRecord.field_names()


def record_from_row(row: Mapping[str, object]) -> AuditRecord:
    """The record a row of audit_log holds."""
    data = {name: row[name] for name in RECORD_FIELDS}
    data["tables"] = tuple(json.loads(str(data["tables"] or "[]")))
    return AuditRecord(**data)  # type: ignore[arg-type]


def pg_guard() -> str:
    """PostgreSQL triggers refusing UPDATE, DELETE and TRUNCATE of both tables."""
    statements = ["""
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION USING MESSAGE = 'the audit log is append-only: ' || TG_OP || ' refused';
END $$ LANGUAGE plpgsql;"""]
    for table in ("audit_log", "audit_meta"):
        statements.append(f"""
DROP TRIGGER IF EXISTS {table}_no_change ON {table};
CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();""")
    return "\n".join(statements)


@dataclass(frozen=True)
class LogMeta:
    """Which log this database holds and where its keyed records begin."""

    log_id: str
    keyed_from: int
    scheme: str = SCHEME


def read_meta(conn: Connection) -> LogMeta | None:
    """The database's log id and scheme; None for a database older than them."""
    if not inspect(conn).has_table("audit_meta"):
        return None
    values = dict(conn.execute(select(audit_meta.c.key, audit_meta.c.value)).all())
    if "log_id" not in values:
        return None
    try:
        keyed_from = int(values.get("keyed_from", ""))
    except ValueError:
        keyed_from = 0  # unreadable: the checkpoints' signed value is what verify trusts
    return LogMeta(values["log_id"], keyed_from, values.get("scheme", ""))


def write_meta(conn: Connection) -> LogMeta:
    """Give a database its log id; its next record is the first keyed one. The caller holds
    the write lock, so two first opens cannot both write."""
    last = conn.execute(select(func.max(audit_table.c.id))).scalar() or 0
    meta = LogMeta(secrets.token_hex(16), last + 1)
    conn.execute(audit_meta.insert(), [
        {"key": "log_id", "value": meta.log_id},
        {"key": "scheme", "value": meta.scheme},
        {"key": "keyed_from", "value": str(meta.keyed_from)},
    ])
    return meta

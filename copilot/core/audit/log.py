"""The append-only, keyed hash chain of audit records, in its own database (SQLite or
PostgreSQL), with a signed checkpoint kept outside it after every record.

`append` writes synchronously and returns only once the record is committed and its
checkpoint kept: callers show an answer only after it returns. Before writing, it checks
that the database is still the one it opened (the file's identity on SQLite, the log id on
PostgreSQL) and that its last record is the one the newest checkpoint signed; otherwise it
raises AuditError and writes nothing. `verify` walks the chain against the checkpoints and
never creates anything. On PostgreSQL a trigger also rejects UPDATE, DELETE and TRUNCATE.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, event, inspect, select, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import QueuePool

from copilot.core.audit.anchor import Anchor
from copilot.core.audit.checkpoint import Checkpoint
from copilot.core.audit.errors import AuditError, AuditKeyError
from copilot.core.audit.integrity import ChainEnd, append_lock, check_latest, records_in
from copilot.core.audit.keys import (
    SIGNING_KEY_FILE,
    VERIFY_KEY_FILE,
    AuditKeys,
    create_keys,
    load_keys,
)
from copilot.core.audit.protection import Protection, protection_beside, protection_for
from copilot.core.audit.record import GENESIS, AuditRecord, keyed_hash
from copilot.core.audit.schema import (
    RECORD_FIELDS,
    LogMeta,
    audit_meta,
    audit_table,
    metadata,
    pg_guard,
    read_meta,
    record_from_row,
    write_meta,
)
from copilot.core.audit.verify import VerifyResult, walk
from copilot.core.settings import Settings

__all__ = ["AuditError", "AuditFilter", "AuditLog", "VerifyResult", "audit_table"]

_INSERT = audit_table.insert()


@dataclass(frozen=True)
class AuditFilter:
    """Which records to list or export (all fields optional; dates are YYYY-MM-DD, UTC)."""

    since: str | None = None
    until: str | None = None
    user: str | None = None
    channel: str | None = None
    outcome: str | None = None
    text: str | None = None


class AuditLog:
    """The audit database. Thread-safe: appends are serialised within the process, and by a
    lock file and the database's own write lock across processes.

    `create=False` opens an existing log only (what `verify` needs): nothing is created, not
    even an empty database file when it is missing.
    """

    def __init__(self, url: str, protection: Protection | None = None, *,
                 create: bool = True) -> None:
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        self.protection = protection or protection_beside(url)
        self._path = (Path(parsed.database).expanduser() if self.dialect == "sqlite"
                      and parsed.database not in (None, "", ":memory:") else None)
        self.display = str(self._path) if self._path else parsed.render_as_string(
            hide_password=True)
        self._lock = threading.Lock()
        self._writable = create
        self._meta: LogMeta | None = None
        self._keys: AuditKeys | None = None
        self._identity: tuple[int, int] | None = None
        self._written: str | None = None  # the checkpoint line this process wrote last
        if self._path is not None and not self._path.exists() and create:
            if (latest := self._latest()[1]) is not None:
                raise AuditError(f"The {self._missing(records_in(latest)).removeprefix('the ')}; "
                                 "answers are withheld until it is restored.")
            self._path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(sqlite3.Error):  # an unopenable path is reported below
                sqlite3.connect(self._path).close()
        try:
            if self._path is not None:
                # mode=rw: a connection never creates the file, so a deleted audit database
                # is an error on the next append, not a new empty one.
                uri = f"file:{quote(str(self._path))}?mode=rw"
                self._engine: Engine = create_engine(
                    "sqlite://", poolclass=QueuePool,
                    creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False))
            else:
                self._engine = create_engine(parsed)
            if self.dialect == "sqlite":
                event.listen(self._engine, "connect", _sqlite_pragmas)
            if create:
                self._open_for_appends()
            elif self._path is None or self._path.exists():
                with self._engine.connect() as conn:
                    self._meta = read_meta(conn)
        except SQLAlchemyError as exc:
            raise AuditError(f"The audit database cannot be opened: {exc.orig or exc}") from None
        if self._path is not None and self._path.exists():
            stat = self._path.stat()
            self._identity = (stat.st_dev, stat.st_ino)

    @classmethod
    def from_settings(cls, settings: Settings, *, create: bool = True) -> AuditLog:
        """The audit log the settings name, with their key and checkpoint folders."""
        return cls(settings.audit.url, protection_for(settings), create=create)

    @property
    def log_id(self) -> str | None:
        """The random id this database was given when its chain was first keyed."""
        return self._meta.log_id if self._meta else None

    def _open_for_appends(self) -> None:
        metadata.create_all(self._engine)
        with self._engine.connect() as conn:
            if self.dialect == "postgresql":
                conn.exec_driver_sql(pg_guard())
                conn.commit()
            self._begin_write(conn, audit_meta.name)
            meta = read_meta(conn)
            if meta is None:
                anchor, latest = self._latest()
                if latest is not None:
                    raise AuditError(
                        f"The audit database {self.display} is not the one the checkpoints in "
                        f"{anchor.where} vouch for (they show "
                        f"{records_in(latest)} records); answers are withheld until it is "
                        "restored.")
                meta = write_meta(conn)
                self._keys = create_keys(self.protection.key_dir)
            conn.commit()
        self._meta = meta
        with contextlib.suppress(AuditKeyError):  # append names the missing key
            self._keys = self._keys or load_keys(self.protection.key_dir)

    def append(self, record: AuditRecord) -> int:
        """Commit one record to the chain and keep its checkpoint; its id. AuditError when it
        cannot be written, or when the database is not the one opened or not the one the
        checkpoints vouch for."""
        row = {name: getattr(record, name) for name in RECORD_FIELDS}
        row["tables"] = json.dumps(list(record.tables))
        with self._lock, append_lock(self.protection.lock_path):
            keys, meta = self._writing_keys(), self._meta
            assert meta is not None  # create=True logs have one; others refuse in _writing_keys
            self._check_identity()
            try:
                with self._engine.connect() as conn:
                    # Two writers must not both read the same "previous hash": take the
                    # database's write lock before reading it.
                    self._begin_write(conn, audit_table.name)
                    self._check_identity(conn)
                    last = conn.execute(select(audit_table.c.id, audit_table.c.record_hash)
                                        .order_by(audit_table.c.id.desc()).limit(1)).first()
                    last_id, previous = (int(last[0]), str(last[1])) if last else (0, GENESIS)
                    anchor, line = self._latest()
                    latest = check_latest(line, anchor.where, keys, ChainEnd(
                        self.display, meta.log_id, meta.keyed_from, last_id, previous),
                        lambda n: conn.execute(select(audit_table.c.record_hash).where(
                            audit_table.c.id == n)).scalar(), written=self._written)
                    new_id = last_id + 1  # set, not left to a sequence: ids stay gapless
                    digest = keyed_hash(keys.chain_key, previous, record)  # type: ignore[arg-type]
                    # Parameters, not .values(): the statement is compiled once and cached.
                    conn.execute(_INSERT, {**row, "id": new_id, "prev_hash": previous,
                                           "record_hash": digest})
                    conn.commit()
            except SQLAlchemyError as exc:
                self._check_identity()
                if getattr(exc.orig, "sqlstate", None) == "42P01":  # a table was dropped
                    raise AuditError(self._replaced()) from None
                raise AuditError(
                    f"The audit record could not be written: {exc.orig or exc}") from None
            checkpoint = Checkpoint.signed(keys, log=meta.log_id, records=new_id, head=digest,
                                           keyed_from=meta.keyed_from,
                                           prev=latest.digest() if latest else "")
            self._written = checkpoint.line()
            for anchor in self.protection.anchors:
                anchor.append(self._written)
            return new_id

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
                yield row["id"], record_from_row(row)

    def rows(self, where: AuditFilter | None = None, batch: int = 20_000
             ) -> Iterator[tuple[object, ...]]:
        """Raw rows (id, then the record's fields) in chain order: the fast path exports
        take, without building a record per row."""
        columns = [audit_table.c.id, *(audit_table.c[name] for name in RECORD_FIELDS)]
        query = select(*columns).order_by(audit_table.c.id)
        for condition in _conditions(where or AuditFilter()):
            query = query.where(condition)
        with self._engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
            for row in result:
                yield tuple(row)

    def verify(self) -> VerifyResult:
        """Walk the chain against the newest signed checkpoint; name what does not hold:
        the first changed record, records removed at the end, a missing database, a
        checkpoint whose signature fails. Creates nothing."""
        try:
            keys = load_keys(self.protection.key_dir)
            anchor, raw = self._latest()
            latest = Checkpoint.parse(raw) if raw is not None else None
        except AuditError as exc:
            return VerifyResult(False, 0, reason=str(exc).rstrip("."))
        except ValueError as exc:
            return VerifyResult(False, 0, reason=f"the newest checkpoint in {anchor.where} is "
                                                 f"damaged: {exc}")
        if latest is not None:
            if keys is None:
                return VerifyResult(False, 0, reason=(
                    f"the checkpoints in {anchor.where} cannot be checked: "
                    f"{self.protection.key_dir / VERIFY_KEY_FILE} is missing"))
            if not latest.signature_holds(keys):
                return VerifyResult(False, 0, reason=(
                    f"the newest checkpoint in {anchor.where} does not hold: its signature is "
                    f"not valid (it claims {latest.records} records)"))
        if self._path is not None and not self._path.exists():
            return self._verify_missing(latest)
        try:
            with self._engine.connect() as conn:
                if not inspect(conn).has_table(audit_table.name):
                    return self._verify_missing(latest)
                meta = read_meta(conn)
                if latest is not None and (meta is None or meta.log_id != latest.log):
                    return VerifyResult(False, 0, checkpoint=latest.records, reason=(
                        f"the audit database {self.display} is not the one the checkpoints in "
                        f"{anchor.where} vouch for: it is log "
                        f"{meta.log_id if meta else '(none)'}, they are of log {latest.log} "
                        f"({latest.records} records)"))
                if latest is not None and meta is not None and (
                        meta.keyed_from != latest.keyed_from):
                    return VerifyResult(False, 0, checkpoint=latest.records, reason=(
                        f"the audit database says keyed hashes start at record "
                        f"{meta.keyed_from}, its signed checkpoints say {latest.keyed_from}: "
                        "its scheme marker was changed"))
                keyed_from = latest.keyed_from if latest else meta.keyed_from if meta else None
                rows = conn.execution_options(stream_results=True, yield_per=5000).execute(
                    select(audit_table).order_by(audit_table.c.id)).mappings()
                return walk(rows, keys=keys, keyed_from=keyed_from, latest=latest,
                            lines=anchor.lines(), where=anchor.where)
        except SQLAlchemyError as exc:
            return VerifyResult(False, 0, reason=f"the audit database {self.display} cannot "
                                                 f"be read: {exc.orig or exc}")

    def dispose(self) -> None:
        self._engine.dispose()

    # ---- what keeps the chain honest --------------------------------------------------

    def _latest(self) -> tuple[Anchor, str | None]:
        """The anchor appends and verify compare against (the first holding lines) and its
        newest line."""
        for anchor in self.protection.anchors:
            if (line := anchor.last()) is not None:
                return anchor, line
        return self.protection.anchors[0], None

    def _replaced(self) -> str:
        return (f"The audit database {self.display} was deleted or replaced; answers are "
                "withheld until it is restored.")

    def _missing(self, records: int) -> str:
        return f"the audit database {self.display} is missing; the checkpoints show " \
               f"{records} records"

    def _verify_missing(self, latest: Checkpoint | None) -> VerifyResult:
        if latest is None and load_keys(self.protection.key_dir) is None:
            return VerifyResult(True, 0)  # a fresh install: nothing recorded, nothing to hold
        if latest is None:
            return VerifyResult(False, 0, reason=(
                f"the audit database {self.display} is missing (its keys in "
                f"{self.protection.key_dir} show it was created)"))
        return VerifyResult(False, 0, checkpoint=latest.records,
                            reason=self._missing(latest.records))

    def _writing_keys(self) -> AuditKeys:
        keys, folder = self._keys, self.protection.key_dir
        if not self._writable or self._meta is None:
            raise AuditError(f"The audit database {self.display} was opened for reading only.")
        if keys is None or keys.chain_key is None:
            raise AuditKeyError(f"The audit chain key {folder / 'chain.key'} is missing; "
                                "answers are withheld until it is restored.")
        if keys.signing is None:
            raise AuditKeyError(f"The checkpoint signing key {folder / SIGNING_KEY_FILE} is "
                                "missing; answers are withheld until it is restored.")
        return keys

    def _check_identity(self, conn: Connection | None = None) -> None:
        """Refuse to write unless the database is still the one opened: on SQLite the same
        file (device and inode), on PostgreSQL the same log id."""
        if self._path is not None:
            try:
                stat = self._path.stat()
                same = (stat.st_dev, stat.st_ino) == self._identity
            except FileNotFoundError:
                same = False
        elif conn is not None:
            same = conn.execute(select(audit_meta.c.value).where(
                audit_meta.c.key == "log_id")).scalar() == self.log_id
        else:
            return
        if not same:
            if conn is not None:
                conn.rollback()
            raise AuditError(self._replaced())

    def _begin_write(self, conn: Connection, table: str) -> None:
        if self.dialect == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif self.dialect == "postgresql":
            conn.execute(text(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))


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

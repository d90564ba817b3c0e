"""What an append checks before it writes, and the lock that keeps checkpoints in order.

A record is written only onto the chain the newest checkpoint signed: the database's last
record must be the checkpoint's (or come after it, when a process stopped between commit and
checkpoint). Anything else (records removed, a new or substituted database, a forged
checkpoint line) refuses the append, so no answer is shown over a broken trail.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from copilot.core.audit.checkpoint import Checkpoint
from copilot.core.audit.errors import AuditError
from copilot.core.audit.keys import AuditKeys

__all__ = ["ChainEnd", "append_lock", "check_latest", "records_in"]

_WITHHELD = "answers are withheld until it is restored."


@dataclass(frozen=True)
class ChainEnd:
    """The database's last record as an append reads it, under the write lock."""

    database: str  # for messages: a path or a URL without its password
    log_id: str
    keyed_from: int
    last_id: int
    last_hash: str


def check_latest(line: str | None, where: str, keys: AuditKeys, end: ChainEnd,
                 hash_of: Callable[[int], str | None], *,
                 written: str | None = None) -> Checkpoint | None:
    """The newest checkpoint (`line`, kept in `where`) once it is shown to sign this chain's
    end; AuditError otherwise. `hash_of(id)` reads one record's hash from the database;
    `written` is the line this process wrote last, whose signature it need not check."""
    if line is None:
        if end.last_id >= end.keyed_from:
            raise AuditError(f"The audit checkpoints in {where} are missing, but the audit "
                             f"database holds {end.last_id} records; {_WITHHELD}")
        return None  # a new log, or one whose records all predate keyed hashes
    try:
        latest = Checkpoint.parse(line)
    except ValueError as exc:
        raise AuditError(f"The newest audit checkpoint in {where} is damaged ({exc}); "
                         f"{_WITHHELD}") from None
    if latest.log != end.log_id or (line != written and not latest.signature_holds(keys)):
        raise AuditError(f"The newest audit checkpoint in {where} is not this log's (its "
                         f"signature or log id differs); {_WITHHELD}")
    if latest.records > end.last_id:
        raise AuditError(f"The audit database {end.database} holds {end.last_id} records but "
                         f"its newest checkpoint shows {latest.records}: records were removed; "
                         f"{_WITHHELD}")
    # Past the checkpoint: a record committed without its checkpoint (a crash between them).
    head = end.last_hash if latest.records == end.last_id else hash_of(latest.records)
    if head != latest.head:
        raise AuditError(f"Record {latest.records} of the audit database {end.database} is not "
                         f"the one its checkpoint signed; {_WITHHELD}")
    return latest


@contextlib.contextmanager
def append_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` across processes. Appends hold it from before the
    database's write lock until the checkpoint is kept, so checkpoint lines are in commit
    order and each can chain to the one before."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise AuditError(f"The audit lock {path} cannot be opened: {exc.strerror}; answers "
                         "are withheld until it can.") from None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def records_in(line: str) -> int | str:
    """The record count a checkpoint line shows, for messages."""
    try:
        return Checkpoint.parse(line).records
    except ValueError:
        return "(unreadable)"

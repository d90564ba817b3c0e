"""One audit record, its canonical form and hashes.

The record hash covers every field and the previous record's hash, so changing, removing or
reordering any record breaks the chain from that record on. Records written since the keyed
scheme are hashed with HMAC-SHA256 under a secret key (`keyed_hash`): without the key nobody
can recompute a rewritten chain. `chain_hash`, plain SHA-256, stays for the records written
before, which must keep verifying.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

__all__ = ["GENESIS", "AuditRecord", "Channel", "Outcome", "chain_hash", "file_sha256",
           "keyed_hash", "result_sha256"]

Channel = Literal["ask", "dashboard", "report", "cli", "training", "audit", "settings", "login",
                  "api"]
Outcome = Literal["answered", "refused", "error", "blocked", "recorded", "partial"]
GENESIS = "0" * 64  # the "previous hash" of the first record


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class AuditRecord:
    """What happened, who asked, what ran and what came back."""

    channel: Channel
    outcome: Outcome
    user: str
    question: str = ""
    sql_generated: str = ""
    sql_run: str = ""
    engine: str = ""  # parser, pair, llm, user
    profile_version: str = ""
    tables: tuple[str, ...] = ()
    row_count: int | None = None
    result_sha256: str = ""
    duration_ms: float | None = None
    reason: str = ""
    app_version: str = ""
    details: str = ""  # JSON text for what a channel adds (feedback comment, export filter)
    ts: str = field(default_factory=_now)

    def canonical(self) -> str:
        """The record as canonical JSON (sorted keys, no spaces): what is hashed."""
        # Not dataclasses.asdict: it deep-copies every value, and verify calls this per row.
        data = {name: getattr(self, name) for name in _FIELD_NAMES}
        data["tables"] = list(self.tables)
        if self.duration_ms is not None:
            data["duration_ms"] = round(self.duration_ms, 3)
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


_FIELD_NAMES = AuditRecord.field_names()


def chain_hash(previous: str, record: AuditRecord) -> str:
    """SHA-256 of the previous record's hash and this record's canonical form."""
    return hashlib.sha256(f"{previous}\n{record.canonical()}".encode()).hexdigest()


# A label inside the keyed message, so a keyed hash can never be mistaken for, or replayed
# as, any other use of the same key.
_KEYED_LABEL = "otc-ops-copilot audit record v2"


def keyed_hash(key: bytes, previous: str, record: AuditRecord) -> str:
    """HMAC-SHA256, under the chain key, of the previous record's hash and this record."""
    message = f"{_KEYED_LABEL}\n{previous}\n{record.canonical()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _canonical_value(value: Any) -> Any:
    if isinstance(value, float | Decimal):
        return format(float(value), ".10g")  # the same number prints the same everywhere
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def result_sha256(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """SHA-256 of a result's canonical JSON: columns, then rows in their order."""
    body = json.dumps(
        {"columns": list(columns), "rows": [[_canonical_value(v) for v in r] for r in rows]},
        separators=(",", ":"), ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read a megabyte at a time (model files, report outputs)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

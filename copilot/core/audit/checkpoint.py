"""Checkpoints: signed statements of how long the chain was and how it ended.

In the spirit of a signed tree head (RFC 6962, certificate transparency): {log id, record
count, head hash, time} signed with Ed25519, so anyone with the public key can check one.
Each checkpoint also carries the SHA-256 of the checkpoint before it, so the copies kept
outside the database form a chain of their own: checking the newest signature vouches for
every earlier line, and a line changed or removed in the middle breaks the link after it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime

from copilot.core.audit.keys import AuditKeys

__all__ = ["Checkpoint", "line_digest"]

_VERSION = 1
# The signed message starts with a label: a signature over a checkpoint cannot be presented
# as a signature over anything else made with the same key.
_LABEL = b"otc-ops-copilot audit checkpoint v1\n"


@dataclass(frozen=True)
class Checkpoint:
    """The chain held `records` records ending in `head` at `ts`."""

    log: str  # the audit database's log id
    records: int
    head: str  # the record hash of record number `records`
    keyed_from: int  # first record hashed with the chain key; before it, plain SHA-256
    prev: str  # SHA-256 of the previous checkpoint's line; empty for the log's first
    key: str  # fingerprint of the public key that checks `sig`
    ts: str = ""
    sig: str = ""  # hex Ed25519 signature over the other fields

    @classmethod
    def signed(cls, keys: AuditKeys, *, log: str, records: int, head: str, keyed_from: int,
               prev: str) -> Checkpoint:
        """A new checkpoint, timestamped now and signed with the log's signing key."""
        unsigned = cls(log=log, records=records, head=head, keyed_from=keyed_from, prev=prev,
                       key=keys.fingerprint,
                       ts=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        return replace(unsigned, sig=keys.sign(unsigned._message()).hex())

    @classmethod
    def parse(cls, line: str) -> Checkpoint:
        """A checkpoint from its line; ValueError when the line is not one, or not in the
        exact form it was written in (a re-spaced or re-ordered line was edited)."""
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            raise ValueError("it is not JSON") from None
        if not isinstance(data, dict) or data.pop("v", None) != _VERSION:
            raise ValueError("it is not a version 1 checkpoint")
        types = {"log": str, "records": int, "head": str, "keyed_from": int, "prev": str,
                 "key": str, "ts": str, "sig": str}
        if set(data) != set(types) or not all(
                type(data[name]) is kind for name, kind in types.items()):
            raise ValueError("its fields are not a checkpoint's")
        checkpoint = cls(**data)
        if checkpoint.line() != line.rstrip("\n"):
            raise ValueError("it is not in the form it was written in")
        return checkpoint

    def line(self) -> str:
        """The checkpoint as one line of canonical JSON (no newline)."""
        return json.dumps(self._fields(), sort_keys=True, separators=(",", ":"))

    def digest(self) -> str:
        """SHA-256 of the line: what the next checkpoint's `prev` holds."""
        return line_digest(self.line())

    def signature_holds(self, keys: AuditKeys) -> bool:
        """True when `sig` was made over these fields by the holder of `keys`."""
        if self.key != keys.fingerprint:
            return False
        try:
            signature = bytes.fromhex(self.sig)
        except ValueError:
            return False
        return keys.signature_holds(signature, self._message())

    def _message(self) -> bytes:
        unsigned = self._fields()
        del unsigned["sig"]
        return _LABEL + json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode()

    def _fields(self) -> dict[str, object]:
        # Not dataclasses.asdict, which deep-copies: verify reads one line per record.
        return {"v": _VERSION, **{name: getattr(self, name) for name in _NAMES}}


_NAMES = tuple(f.name for f in fields(Checkpoint))


def line_digest(line: str) -> str:
    """SHA-256 of a checkpoint line as written (without its newline)."""
    return hashlib.sha256(line.rstrip("\n").encode()).hexdigest()

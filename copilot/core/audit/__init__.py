"""The audit trail: an append-only, keyed hash chain in its own database, signed checkpoints
of it kept outside that database (anchors), its verification and its exports."""

from copilot.core.audit.errors import AuditError, AuditKeyError
from copilot.core.audit.log import AuditFilter, AuditLog
from copilot.core.audit.protection import Protection
from copilot.core.audit.record import (
           AuditRecord,
           chain_hash,
           file_sha256,
           keyed_hash,
           result_sha256,
)
from copilot.core.audit.recorder import Recorder
from copilot.core.audit.verify import VerifyResult

__all__ = ["AuditError", "AuditFilter", "AuditKeyError", "AuditLog", "AuditRecord",
           "Protection", "Recorder", "VerifyResult", "chain_hash", "file_sha256", "keyed_hash",
           "result_sha256"]
